"""A push's addressees, found by the codes a push carries (organisation, unit): a unit's focal
points or the office and leaders, the unit's name and id; and each chat's name in a report."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Organization, Role, Unit


def _of_org(org: str | None) -> ColumnElement[bool]:
    """SQL condition: the unit belongs to the organisation of this code (any, for None)."""
    if org is None:
        return true()
    return (
        Unit.organization_id
        == select(Organization.id).where(Organization.code == org).scalar_subquery()
    )


async def recipients(
    session: AsyncSession, unit_code: str | None, org: str | None = None
) -> list[Member]:
    """A unit's active focal points; for None, the organisation's office and leaders."""
    query = (
        select(Member)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Member.active.is_(True), _of_org(org))
    )
    if unit_code is None:
        query = query.where(Member.role.in_([Role.OFFICE, Role.LEADER]))
    else:
        query = query.where(Unit.code == unit_code, Member.role == Role.FOCAL)
    return list(await session.scalars(query.order_by(Member.id)))


async def unit_name(session: AsyncSession, code: str | None, org: str | None = None) -> str:
    """The name of the organisation's unit of this code (the code itself if none; "" for None)."""
    if code is None:
        return ""
    found = await session.scalar(select(Unit.name).where(Unit.code == code, _of_org(org)).limit(1))
    return found or code


async def unit_id(session: AsyncSession, code: str | None, org: str | None) -> int | None:
    """The id of the organisation's unit of this code, or None."""
    if code is None:
        return None
    return await session.scalar(select(Unit.id).where(Unit.code == code, _of_org(org)).limit(1))


async def organization_code(session: AsyncSession, org_id: int) -> str | None:
    """The code of the organisation of this id (what a push names its organisation by)."""
    return await session.scalar(select(Organization.code).where(Organization.id == org_id))


async def chat_names(session: AsyncSession) -> dict[int, str]:
    """Every member's chat as a delivery report names it: "name (unit)"."""
    rows = await session.execute(
        select(Member.chat_id, Member.full_name, Unit.name)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Member.chat_id.is_not(None))
    )
    return {chat: f"{name} ({unit})" for chat, name, unit in rows if chat is not None}


async def member_names(session: AsyncSession) -> dict[int, str]:
    """Every member by id as a delivery report names them: "name (unit)" (Zalo's rows)."""
    rows = await session.execute(
        select(Member.id, Member.full_name, Unit.name).join(Unit, Unit.id == Member.unit_id)
    )
    return {member: f"{name} ({unit})" for member, name, unit in rows}

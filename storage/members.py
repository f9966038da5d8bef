"""Members: who is bound to which unit with which role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Organization, PushTo, Role, Unit


@dataclass(frozen=True, slots=True)
class Membership:
    """A bound account as handlers see it: plain values, safe outside any session."""

    telegram_user_id: int | None  # None: on Zalo only
    chat_id: int | None
    role: Role
    unit_id: int
    unit_code: str
    unit_name: str
    full_name: str
    organization_id: int = 0
    # The organisation's words as stored (None: not given; messages fill in the usual ones).
    org_name: str = ""
    org_office: str | None = None
    org_head: str | None = None
    org_short: str | None = None
    member_id: int = 0
    push_to: PushTo = PushTo.TELEGRAM
    zalo_linked: bool = False  # a Zalo account is linked and has not left
    council_seat: bool = False  # sits on the council (PRODUCT §11): gets its ballots


def _membership(member: Member, unit: Unit, org: Organization) -> Membership:
    return Membership(
        member_id=member.id,
        push_to=member.push_to,
        zalo_linked=member.zalo_chat_id is not None and member.zalo_left_at is None,
        council_seat=member.council_seat,
        telegram_user_id=member.telegram_user_id,
        chat_id=member.chat_id,
        role=member.role,
        unit_id=unit.id,
        unit_code=unit.code,
        unit_name=unit.name,
        full_name=member.full_name,
        organization_id=org.id,
        org_name=org.name,
        org_office=org.office,
        org_head=org.head,
        org_short=org.short,
    )


# Read on every update (the role check): built once, plain columns rather than entities.
_ACTIVE_MEMBERSHIP = (
    select(
        Member.telegram_user_id,
        Member.chat_id,
        Member.role,
        Member.unit_id,
        Unit.code.label("unit_code"),
        Unit.name.label("unit_name"),
        Member.full_name,
        Unit.organization_id,
        Organization.name.label("org_name"),
        Organization.office.label("org_office"),
        Organization.head.label("org_head"),
        Organization.short.label("org_short"),
        Member.id.label("member_id"),
        Member.push_to,
        (Member.zalo_chat_id.is_not(None) & Member.zalo_left_at.is_(None)).label("zalo_linked"),
        Member.council_seat,
    )
    .join(Unit, Member.unit_id == Unit.id)
    .join(Organization, Organization.id == Unit.organization_id)
    .where(Member.active.is_(True))
)
_BY_TELEGRAM = _ACTIVE_MEMBERSHIP.where(Member.telegram_user_id == bindparam("user_id"))
_BY_ZALO = _ACTIVE_MEMBERSHIP.where(
    Member.zalo_user_id == bindparam("zalo_id"), Member.zalo_left_at.is_(None)
)


async def active_membership(session: AsyncSession, telegram_user_id: int) -> Membership | None:
    """The account's active binding, or None when it is not bound."""
    row = (await session.execute(_BY_TELEGRAM, {"user_id": telegram_user_id})).first()
    return None if row is None else _from_row(row._asdict())


async def zalo_membership(session: AsyncSession, zalo_user_id: str) -> Membership | None:
    """The active binding of a linked Zalo account (one that has not left), or None."""
    row = (await session.execute(_BY_ZALO, {"zalo_id": zalo_user_id})).first()
    return None if row is None else _from_row(row._asdict())


def _from_row(values: dict[str, object]) -> Membership:
    values["zalo_linked"] = bool(values["zalo_linked"])
    values["council_seat"] = bool(values["council_seat"])
    return Membership(**values)  # type: ignore[arg-type]


async def bind_member(
    session: AsyncSession,
    *,
    telegram_user_id: int,
    chat_id: int,
    unit: Unit,
    role: Role,
    full_name: str,
    username: str | None,
    invite_id: int | None,
    now: datetime,
) -> Membership:
    """Bind (or re-bind) the account to the unit and role and mark it active. A council invite
    taken by an active member of the same organisation gives a council seat and changes
    nothing else: a director or an office member sits on the council in their own role."""
    member = await session.scalar(select(Member).where(Member.telegram_user_id == telegram_user_id))
    if role is Role.COUNCIL and member is not None and member.active:
        current = await session.get_one(Unit, member.unit_id)
        if current.organization_id == unit.organization_id:
            member.council_seat = True
            member.chat_id = chat_id
            await session.flush()
            org = await session.get_one(Organization, current.organization_id)
            return _membership(member, current, org)
    if member is None:
        member = Member(telegram_user_id=telegram_user_id)
        session.add(member)
    member.chat_id = chat_id
    member.unit_id = unit.id
    member.role = role
    member.full_name = full_name
    member.username = username
    member.invite_id = invite_id
    member.active = True
    member.joined_at = now
    member.council_seat = role is Role.COUNCIL
    await session.flush()
    return _membership(member, unit, await session.get_one(Organization, unit.organization_id))


async def members_of_unit(session: AsyncSession, unit_id: int) -> list[Member]:
    """The active members of one unit."""
    rows = await session.scalars(
        select(Member)
        .where(Member.unit_id == unit_id, Member.active.is_(True))
        .order_by(Member.joined_at)
    )
    return list(rows)


async def member_counts_by_unit(session: AsyncSession) -> dict[int, dict[Role, int]]:
    """Active members per unit and role."""
    rows = await session.execute(
        select(Member.unit_id, Member.role, func.count())
        .where(Member.active.is_(True))
        .group_by(Member.unit_id, Member.role)
    )
    counts: dict[int, dict[Role, int]] = {}
    for unit_id, role, n in rows:
        counts.setdefault(unit_id, {})[role] = n
    return counts

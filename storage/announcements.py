"""The office's announcements: whom one reaches (every reporting unit, chosen units, or the
units still missing something in a campaign) and saving one to be sent. The leadership and
councils are never an audience's units: announcements go to units' focal points."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dossier_status import missing_units
from storage.models import Announcement, Audience, Campaign, Member, Role, Unit
from storage.units import units_of_organization


@dataclass(frozen=True, slots=True)
class Reach:
    """The units an announcement would go to, and how many active focal points they have."""

    units: list[Unit]
    people: int
    unreached: list[Unit]  # units of the audience that no active focal point has joined


async def choosable_units(session: AsyncSession, org_id: int) -> list[Unit]:
    """The units the office may choose for an announcement (the /thongbao picker): the
    organisation's units that report, by code."""
    return await units_of_organization(session, org_id, reporting_only=True)


async def audience_units(
    session: AsyncSession,
    org_id: int,
    audience: Audience,
    unit_ids: Collection[int],
    campaign_id: int | None,
) -> list[Unit]:
    """The units of the organisation an announcement goes to, all of them units that report:
    the chosen ones, those still missing something in the campaign, or every one."""
    if audience is Audience.MISSING and campaign_id is not None:
        return await missing_units(session, await session.get_one(Campaign, campaign_id))
    units = await choosable_units(session, org_id)
    if audience is Audience.UNITS:
        return [u for u in units if u.id in unit_ids]
    return units


async def reach(
    session: AsyncSession,
    org_id: int,
    audience: Audience,
    unit_ids: Collection[int],
    campaign_id: int | None,
) -> Reach:
    """The audience's units and the number of people an announcement would reach."""
    units = await audience_units(session, org_id, audience, unit_ids, campaign_id)
    rows = await session.execute(
        select(Member.unit_id, func.count())
        .where(
            Member.active.is_(True),
            Member.role == Role.FOCAL,
            Member.unit_id.in_([u.id for u in units]),
        )
        .group_by(Member.unit_id)
    )
    focal = {unit_id: int(count) for unit_id, count in rows}
    unreached = [u for u in units if u.id not in focal]
    return Reach(units, sum(focal.values()), unreached)


async def save_announcement(
    session: AsyncSession,
    *,
    organization_id: int,
    text: str,
    document_file_id: str | None,
    document_name: str | None,
    audience: Audience,
    unit_ids: Collection[int],
    campaign_id: int | None,
    send_at: datetime,
    by: int,
    now: datetime,
    report_chat_id: int,
) -> Announcement:
    """Keep an announcement for the scheduler to send at `send_at` (now: at its next tick)."""
    announcement = Announcement(
        organization_id=organization_id,
        text=text,
        document_file_id=document_file_id,
        document_name=document_name,
        audience=audience,
        unit_ids=sorted(unit_ids),
        campaign_id=campaign_id,
        send_at=send_at,
        created_by=by,
        created_at=now,
        report_chat_id=report_chat_id,
    )
    session.add(announcement)
    await session.flush()
    return announcement

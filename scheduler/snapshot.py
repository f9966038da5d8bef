"""Read the facts the due-computation needs from the database, in one read session."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.due import (
    AnnouncementFacts,
    CampaignFacts,
    ResultFacts,
    Snapshot,
    TaskFacts,
)
from storage.campaigns import all_campaigns, participating_units
from storage.dossiers import missing_units, units_with_complete_dossier
from storage.models import (
    Announcement,
    Audience,
    Campaign,
    CouncilResult,
    OutboxMessage,
    Plan,
    ResultItem,
    Unit,
)
from storage.plans import plan_progress
from storage.registrations import registrations_of_campaign


async def _campaign_facts(session: AsyncSession, campaign: Campaign) -> CampaignFacts:
    units = await participating_units(session, campaign)
    registered = await registrations_of_campaign(session, campaign.id)
    complete_ids = (
        await units_with_complete_dossier(session, campaign, units)
        if campaign.dossier_deadline is not None
        else set()
    )
    complete = {u.code for u in units if u.id in complete_ids}
    return CampaignFacts(
        code=campaign.code,
        launch_at=campaign.launch_at,
        start=campaign.start,
        end=campaign.end,
        unit_codes=tuple(u.code for u in units),
        registration_deadline=campaign.registration_deadline,
        dossier_deadline=campaign.dossier_deadline,
        reminders=tuple(campaign.reminders),
        registered=frozenset(u.code for u in units if u.id in registered),
        dossier_complete=frozenset(complete),
    )


async def load_snapshot(session: AsyncSession, tz: ZoneInfo) -> Snapshot:
    """Every campaign, plan task, result and announcement, and the push keys enqueued."""
    units = {u.id: u.code for u in await session.scalars(select(Unit))}
    campaigns = await all_campaigns(session)
    tasks: list[TaskFacts] = []
    for plan in await session.scalars(select(Plan).order_by(Plan.year)):
        for status in await plan_progress(session, plan.id):
            tasks.append(
                TaskFacts(
                    year=plan.year,
                    no=status.no,
                    quarter=status.quarter,
                    due=status.due,
                    unit_codes=tuple(u.code for u in status.responsible),
                    done=frozenset(units[uid] for uid in status.done),
                )
            )
    results = []
    for result in await session.scalars(select(CouncilResult)):
        campaign = await session.get_one(Campaign, result.campaign_id)
        item_units = await session.scalars(
            select(ResultItem.unit_id).where(ResultItem.result_id == result.id).distinct()
        )
        codes = tuple(sorted(units[uid] for uid in item_units))
        results.append(ResultFacts(campaign.code, result.publish_at, codes))
    announcements = []
    for announcement in await session.scalars(select(Announcement)):
        announcements.append(
            AnnouncementFacts(
                announcement.id,
                announcement.send_at,
                tuple(sorted(await audience_codes(session, announcement, units))),
            )
        )
    enqueued = frozenset(await session.scalars(select(OutboxMessage.push_key).distinct()))
    return Snapshot(
        tz=tz,
        campaigns=tuple([await _campaign_facts(session, c) for c in campaigns]),
        tasks=tuple(tasks),
        results=tuple(results),
        announcements=tuple(announcements),
        enqueued=enqueued,
    )


async def audience_codes(
    session: AsyncSession, announcement: Announcement, units: dict[int, str]
) -> list[str]:
    """The unit codes an announcement goes to."""
    if announcement.audience is Audience.ALL:
        return list(units.values())
    if announcement.audience is Audience.UNITS:
        return [units[uid] for uid in announcement.unit_ids if uid in units]
    campaign = (
        await session.get(Campaign, announcement.campaign_id) if announcement.campaign_id else None
    )
    return [u.code for u in await missing_units(session, campaign)] if campaign else []

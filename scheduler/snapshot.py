"""Read the facts the due-computation needs from the database, in one read session."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.due import (
    AnnouncementFacts,
    CampaignFacts,
    ResultFacts,
    Snapshot,
    TaskFacts,
    push_keys,
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
from storage.registrations import registered_unit_ids


async def _campaign_facts(session: AsyncSession, campaign: Campaign) -> CampaignFacts:
    units = await participating_units(session, campaign)
    registered = await registered_unit_ids(session, campaign.id)
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


# What a tick looks at: facts whose pushes fall after now minus this. Older announcements
# and results are history; a reminder or task list that old is stale anyway (due.py).
HORIZON = timedelta(days=62)
_KEYS_PER_QUERY = 500


def _still_relevant(campaign: Campaign, since: date) -> bool:
    """Whether any push of the campaign (launch, reminders, digest) can fall after `since`:
    it still runs, or a deadline (whose digest follows it) is that recent."""
    dates = [campaign.end, campaign.registration_deadline, campaign.dossier_deadline]
    return max(d for d in dates if d is not None) >= since


async def load_snapshot(
    session: AsyncSession, tz: ZoneInfo, since: datetime | None = None
) -> Snapshot:
    """The campaigns, plan tasks, results and announcements whose pushes may fall after
    `since` (everything when None), and which of their pushes are already enqueued.

    The scheduler passes now minus HORIZON, so a tick reads what is current, however many
    years of history the database holds; `thiduabot due` reads everything.
    """
    since_day = since.astimezone(tz).date() if since is not None else date.min
    units = {u.id: u.code for u in await session.scalars(select(Unit))}
    campaigns = [c for c in await all_campaigns(session) if _still_relevant(c, since_day)]
    tasks: list[TaskFacts] = []
    plans = select(Plan).where(Plan.year >= since_day.year).order_by(Plan.year)
    for plan in await session.scalars(plans):
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
    published = select(CouncilResult)
    if since is not None:
        published = published.where(CouncilResult.publish_at >= since)
    for result in await session.scalars(published):
        campaign = await session.get_one(Campaign, result.campaign_id)
        item_units = await session.scalars(
            select(ResultItem.unit_id).where(ResultItem.result_id == result.id).distinct()
        )
        codes = tuple(sorted(units[uid] for uid in item_units))
        results.append(ResultFacts(campaign.code, result.publish_at, codes))
    announcements = []
    scheduled = select(Announcement)
    if since is not None:
        scheduled = scheduled.where(Announcement.send_at >= since)
    for announcement in await session.scalars(scheduled):
        announcements.append(
            AnnouncementFacts(
                announcement.id,
                announcement.send_at,
                tuple(sorted(await audience_codes(session, announcement, units))),
            )
        )
    facts = Snapshot(
        tz=tz,
        campaigns=tuple([await _campaign_facts(session, c) for c in campaigns]),
        tasks=tuple(tasks),
        results=tuple(results),
        announcements=tuple(announcements),
    )
    return dataclasses.replace(facts, enqueued=await _enqueued(session, push_keys(facts)))


async def _enqueued(session: AsyncSession, keys: set[str]) -> frozenset[str]:
    """Which of these push keys the outbox holds (index lookups, not a scan of the outbox)."""
    ordered = sorted(keys)
    found: set[str] = set()
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        found.update(
            await session.scalars(
                select(OutboxMessage.push_key).where(OutboxMessage.push_key.in_(chunk)).distinct()
            )
        )
    return frozenset(found)


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

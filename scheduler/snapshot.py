"""Read the facts the due-computation needs from the database, in one read session."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendar import quarter_of
from scheduler.due import push_keys
from scheduler.facts import (
    AnnouncementFacts,
    CampaignFacts,
    DeadlineFacts,
    ResultFacts,
    Snapshot,
    TaskFacts,
)
from scheduler.recurrence import Step, campaign_step_dates, occurrences
from storage.campaigns import active_deadlines, all_campaigns, participating_units
from storage.dossier_status import missing_units, units_with_complete_dossier
from storage.models import Announcement, Audience, Campaign, DeadlineWho, Unit
from storage.organizations import all_organizations
from storage.outbox import enqueued_push_keys
from storage.plan_tasks import plans_from
from storage.plans import plan_progress
from storage.registrations import registered_unit_ids
from storage.results import result_unit_ids, results_since
from storage.reviews import awaiting_review
from storage.scheduled_announcements import announcements_since
from storage.step_progress import units_done
from storage.units import all_units, reports
from storage.windows import has_dossier


async def _deadline_facts(
    session: AsyncSession, campaign: Campaign, units: list[Unit], tz: ZoneInfo
) -> tuple[DeadlineFacts, ...]:
    deadlines = await active_deadlines(session, campaign.id)
    if not deadlines:
        return ()
    steps = [Step(d.code, d.due, d.after, d.days, d.working_days) for d in deadlines]
    dates = campaign_step_dates(
        steps,
        campaign.launch_at.astimezone(tz).date(),
        campaign.registration_deadline,
        campaign.dossier_deadline,
    )
    done = await units_done(session, [d.id for d in deadlines])
    facts = []
    for d in deadlines:
        due = dates[d.code]
        if due is None:
            continue
        chosen = [u for u in units if d.all_units or u.id in d.unit_ids]
        facts.append(
            DeadlineFacts(
                code=d.code,
                due=due,
                office=d.who is DeadlineWho.OFFICE,
                unit_codes=tuple(u.code for u in chosen),
                reminders=tuple(d.reminders) if d.reminders is not None else None,
                done=frozenset(u.code for u in chosen if u.id in done.get(d.id, set())),
            )
        )
    return tuple(facts)


async def _campaign_facts(
    session: AsyncSession, campaign: Campaign, orgs: dict[int, str], tz: ZoneInfo
) -> CampaignFacts:
    units = await participating_units(session, campaign)
    registered = await registered_unit_ids(session, campaign.id)
    complete_ids = (
        await units_with_complete_dossier(session, campaign, units)
        if has_dossier(campaign)
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
        org=orgs.get(campaign.organization_id),
        deadlines=await _deadline_facts(session, campaign, units, tz),
        review_days=campaign.review_within_working_days,
        awaiting=tuple(
            (a.unit_code, a.complete_since.astimezone(tz).date())
            for a in (
                await awaiting_review(session, campaign)
                if campaign.review_within_working_days
                else []
            )
        ),
    )


# What a tick looks at: facts whose pushes fall after now minus this. Older announcements
# and results are history; a reminder or task list that old is stale anyway (due.py).
HORIZON = timedelta(days=62)
# An announcement still reaches a unit whose first member joins (or a bot back from a
# downtime) within this long after its time; later it is history. Without it every tick
# looked up one outbox key per announcement and unit of the whole horizon: some 7,000 more
# a day for an office sending one to 300 units every hour (bench/soak.py, issue 18).
ANNOUNCEMENT_REACH = timedelta(days=7)


def _still_relevant(campaign: Campaign, since: date) -> bool:
    """Whether any push of the campaign (launch, reminders, digest) can fall after `since`:
    it still runs, or a deadline (whose digest follows it) is that recent."""
    dates = [campaign.end, campaign.registration_deadline, campaign.dossier_deadline]
    # A step of its own may come later still: those are rare, kept a year after the end.
    return max(d for d in dates if d is not None) + timedelta(days=366) >= since


async def load_snapshot(
    session: AsyncSession, tz: ZoneInfo, since: datetime | None = None
) -> Snapshot:
    """The campaigns, plan tasks, results and announcements whose pushes may fall after
    `since` (everything when None), and which of their pushes are already enqueued.

    The scheduler passes now minus HORIZON, so a tick reads what is current, however many
    years of history the database holds; `thiduabot due` reads everything.
    """
    since_day = since.astimezone(tz).date() if since is not None else date.min
    orgs = {o.id: o.code for o in await all_organizations(session)}
    all_of = await all_units(session)
    units = {u.id: u.code for u in all_of}
    # A unit merged into another without a date of its own gets nothing more from the merger
    # on: its work goes on under the unit it joined.
    retired = {
        (orgs.get(u.organization_id), u.code): u.retired or date.min
        for u in all_of
        if u.retired or u.merged_into_id
    }
    campaigns = [c for c in await all_campaigns(session) if _still_relevant(c, since_day)]
    tasks: list[TaskFacts] = []
    for plan in await plans_from(session, since_day.year - 1):
        org = orgs.get(plan.organization_id)
        for status in await plan_progress(session, plan.id):
            responsible = tuple(u.code for u in status.responsible)
            task = TaskFacts(
                year=plan.year,
                no=status.no,
                quarter=status.quarter,
                due=status.due,
                unit_codes=responsible,
                done=frozenset(units[uid] for uid in status.done),
                plan=plan.id,
                plan_code=plan.code,
                org=org,
            )
            if status.repeat is None:
                # A task for the whole year with no date is listed with the first quarter's.
                tasks.append(
                    task if task.quarter or task.due else dataclasses.replace(task, quarter=1)
                )
                continue
            periods = status.done_periods or {}
            for due in occurrences(
                plan.year, status.repeat, status.repeat_day or 0, status.repeat_month
            ):
                done = frozenset(units[uid] for uid in periods.get(due.isoformat(), ()))
                tasks.append(dataclasses.replace(task, quarter=quarter_of(due), due=due, done=done))
    results = []
    for result in await results_since(session, since):
        campaign = await session.get_one(Campaign, result.campaign_id)
        item_units = await result_unit_ids(session, result.id)
        codes = tuple(sorted(units[uid] for uid in item_units))
        results.append(
            ResultFacts(
                campaign.code,
                result.publish_at,
                codes,
                result=result.id,
                org=orgs.get(campaign.organization_id),
            )
        )
    announcements = []
    recent = None if since is None else max(since, since + HORIZON - ANNOUNCEMENT_REACH)
    for announcement in await announcements_since(session, recent):
        announcements.append(
            AnnouncementFacts(
                announcement.id,
                announcement.send_at,
                tuple(sorted(await audience_codes(session, announcement, all_of))),
                org=orgs.get(announcement.organization_id),
            )
        )
    facts = Snapshot(
        tz=tz,
        campaigns=tuple([await _campaign_facts(session, c, orgs, tz) for c in campaigns]),
        tasks=tuple(tasks),
        results=tuple(results),
        announcements=tuple(announcements),
        retired=retired,
    )
    enqueued = await enqueued_push_keys(session, push_keys(facts))
    return dataclasses.replace(facts, enqueued=enqueued)


async def audience_codes(
    session: AsyncSession, announcement: Announcement, units: list[Unit]
) -> list[str]:
    """The unit codes an announcement goes to, only units that report (as
    storage.announcements.audience_units): "all" means every one of the office's organisation."""
    if announcement.audience is Audience.ALL:
        org = announcement.organization_id
        return [u.code for u in units if u.organization_id == org and reports(u)]
    if announcement.audience is Audience.UNITS:
        by_id = {u.id: u.code for u in units if reports(u)}
        return [by_id[uid] for uid in announcement.unit_ids if uid in by_id]
    campaign = (
        await session.get(Campaign, announcement.campaign_id) if announcement.campaign_id else None
    )
    return [u.code for u in await missing_units(session, campaign)] if campaign else []

"""A push's text as its recipients read it: rendered from the database at the tick that
enqueues it, in the words of the body it speaks for, for the channel it goes by (Telegram, or
Zalo: the same templates, the next step in words that work there, made plain by the outbox)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from messages import TELEGRAM, ZALO, on_channel, render
from messages.organizations import OrgWords, org_words, speaking_for
from scheduler.due import Push
from scheduler.recurrence import Step, campaign_step_dates
from storage.campaigns import active_deadlines, active_titles, campaign_by_code
from storage.dossier_status import active_documents, dossier_status
from storage.models import Announcement, Campaign, CampaignDeadline, PlanTask, Target
from storage.nominees import active_awards
from storage.organizations import organization_by_code
from storage.plan_tasks import tasks_numbered
from storage.recipients import unit_id, unit_name
from storage.results import published_result
from storage.reviews import awaiting_review
from storage.step_progress import step_by_code


async def _campaign(session: AsyncSession, code: str) -> Campaign:
    campaign = await campaign_by_code(session, code)
    assert campaign is not None, code
    return campaign


async def push_words(session: AsyncSession, push: Push) -> OrgWords:
    """The words of the body a push speaks for."""
    org = await organization_by_code(session, push.org) if push.org is not None else None
    return org_words(org.name, org.office, org.head, org.short) if org else org_words("")


async def render_push(
    session: AsyncSession, push: Push, now: datetime, tz: ZoneInfo, channel: str = TELEGRAM
) -> tuple[str, str | None]:
    """The push's text as its recipients read it on `channel`, and a document to send with
    it, if any (never on Zalo, which takes no files: the text names the document instead)."""
    with speaking_for(await push_words(session, push)), on_channel(channel):
        text, document = await _render_push(session, push, now, tz)
    return (text, None) if channel == ZALO else (text, document)


async def _render_push(
    session: AsyncSession, push: Push, now: datetime, tz: ZoneInfo
) -> tuple[str, str | None]:
    today = now.astimezone(tz).date()
    unit = await unit_name(session, push.unit, push.org)
    if push.kind == "launch":
        campaign = await _campaign(session, push.subject)
        return render(
            "push/launch",
            campaign=campaign,
            titles={
                target: [t.name for t in await active_titles(session, campaign.id, target)]
                for target in (Target.TAP_THE, Target.CA_NHAN)
            },
            steps=await _dated_steps(session, campaign, tz),
            awards=await active_awards(session, campaign.id),
            documents=await active_documents(session, campaign.id),
        ), None
    if push.kind == "quarterly_tasks":
        year, quarter = (int(p) for p in push.key.split(":")[1].split("-Q"))
        return render(
            "push/quarterly_tasks",
            year=year,
            quarter=quarter,
            unit=unit,
            tasks=await _tasks(session, push.ref, push.items),
        ), None
    if push.kind == "reminder":
        assert push.deadline is not None
        subject_title, missing, tasks, step = "", 0, [], None
        if push.deadline_kind == "task":
            tasks = await _tasks(session, push.ref, push.items)
        else:
            campaign = await _campaign(session, push.subject)
            subject_title = campaign.title
            step = await _step(session, campaign.id, push.step)
            if push.deadline_kind == "dossier":
                found = await unit_id(session, push.unit, push.org)
                if found is not None:
                    missing = (await dossier_status(session, campaign, found)).missing
        return render(
            "push/reminder",
            kind=push.deadline_kind,
            deadline=push.deadline,
            days=(push.deadline - today).days,
            unit=unit,
            subject_title=subject_title,
            missing=missing,
            tasks=tasks,
            step=step,
        ), None
    if push.kind == "overdue_digest" and push.deadline_kind == "review":
        campaign = await _campaign(session, push.subject)
        waiting = await awaiting_review(session, campaign)
        return render(
            "push/review_overdue",
            campaign=campaign,
            limit=push.deadline,
            dossiers=[a for a in waiting if a.unit_code in push.items],
            tz=tz,
        ), None
    if push.kind == "overdue_digest":
        title = (
            "" if push.deadline_kind == "task" else (await _campaign(session, push.subject)).title
        )
        names = [await unit_name(session, code, push.org) for code in push.items]
        step = (
            await _step(session, (await _campaign(session, push.subject)).id, push.step)
            if push.step
            else None
        )
        return render(
            "push/overdue_digest",
            kind=push.deadline_kind,
            deadline=push.deadline,
            subject_title=title,
            units=names,
            step=step,
        ), None
    if push.kind == "results":
        return await _results(session, push), None
    announcement = await session.get_one(Announcement, int(push.subject))
    attached = announcement.document_file_id is not None
    return render(
        "push/announcement",
        text=announcement.text,
        document=(announcement.document_name or "") if attached else None,
    ), announcement.document_file_id


async def _tasks(
    session: AsyncSession, plan_id: int | None, numbers: tuple[str, ...]
) -> list[PlanTask]:
    return await tasks_numbered(session, plan_id, [int(n) for n in numbers])


async def _dated_steps(
    session: AsyncSession, campaign: Campaign, tz: ZoneInfo
) -> list[tuple[CampaignDeadline, date]]:
    """The campaign's own steps with their dates, in date order (undatable ones left out)."""
    steps = await active_deadlines(session, campaign.id)
    dates = campaign_step_dates(
        [Step(s.code, s.due, s.after, s.days, s.working_days) for s in steps],
        campaign.launch_at.astimezone(tz).date(),
        campaign.registration_deadline,
        campaign.dossier_deadline,
    )
    dated = [(s, day) for s in steps if (day := dates.get(s.code)) is not None]
    return sorted(dated, key=lambda pair: pair[1])


async def _step(
    session: AsyncSession, campaign_id: int, code: str | None
) -> CampaignDeadline | None:
    return None if code is None else await step_by_code(session, campaign_id, code)


async def _results(session: AsyncSession, push: Push) -> str:
    assert push.ref is not None
    result = await published_result(session, push.ref, push.unit)
    return render(
        "push/results",
        campaign=result.campaign,
        decision=result.decision,
        decided_by=result.decided_by,
        items=[{"nominee": n, "unit": u, "award": a} for u, n, a in result.items],
    )

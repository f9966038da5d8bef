"""`/lich`: coming deadlines and events, nearest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, stale
from handlers.replies import show_page
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Page, Prefix, int_arg, pattern, unpack
from scheduler.calendar import working_days_between
from scheduler.recurrence import Step, campaign_step_dates, occurrences
from storage.db import Database
from storage.members import Membership
from storage.models import Campaign, DueForm, Plan, Role
from storage.plans import TaskStatus, UnitTask, plan_progress, plans_of_year, unit_tasks
from storage.registrations import registration_of
from storage.steps import CampaignSteps, organization_campaign_steps, unit_campaign_steps
from storage.windows import launched

PER_PAGE = 8  # entries per screen: the nearest on the first, the later ones a page further


@dataclass(frozen=True, slots=True)
class Event:
    """One dated thing on the calendar, dated as its document writes it (`form`)."""

    day: date
    kind: str  # registration | dossier | task | launch | step | office_step
    label: str
    done: bool = False
    form: str = DueForm.DAY.value
    detail: str = ""  # the campaign a step belongs to


def step_dates(campaign_steps: CampaignSteps, tz: ZoneInfo) -> dict[int, date]:
    """Each step's last day, by its id: its own date, or counted from another step, the
    launch, the registration or the dossier deadline (steps that cannot be dated are left out)."""
    campaign = campaign_steps.campaign
    dates = campaign_step_dates(
        [Step(s.code, s.due, s.after, s.days, s.working_days) for s in campaign_steps.steps],
        campaign.launch_at.astimezone(tz).date(),
        campaign.registration_deadline,
        campaign.dossier_deadline,
    )
    return {s.id: day for s in campaign_steps.steps if (day := dates.get(s.code)) is not None}


def _next_open(days: list[date], today: date, done: set[str]) -> date | None:
    """A recurring task's next due date not yet done (`done`: ISO dates): one entry per
    task, not twelve."""
    return next((d for d in days if d >= today and d.isoformat() not in done), None)


def _task_label(no: int, content: str) -> str:
    return f"NV {no}: {content}"


def _deadlines(campaign: Campaign, registered: bool = False) -> list[Event]:
    """The campaign's registration deadline (done once the unit registered) and dossier
    deadline, those it has."""
    events = []
    if campaign.registration_deadline:
        events.append(
            Event(campaign.registration_deadline, "registration", campaign.title, registered)
        )
    if campaign.dossier_deadline:
        events.append(Event(campaign.dossier_deadline, "dossier", campaign.title))
    return events


def _unit_steps(campaign_steps: CampaignSteps, tz: ZoneInfo) -> list[Event]:
    """The unit's own dated steps of the campaign, done once it marked them."""
    dates, title = step_dates(campaign_steps, tz), campaign_steps.campaign.title
    return [
        Event(dates[s.id], "step", s.title, s.done_at is not None, s.due_form.value, title)
        for s in campaign_steps.steps
        if s.mine and s.id in dates
    ]


def _office_steps(campaign_steps: CampaignSteps, tz: ZoneInfo) -> list[Event]:
    """Every dated step of the campaign, done once every unit responsible marked it."""
    dates, title = step_dates(campaign_steps, tz), campaign_steps.campaign.title
    return [
        Event(
            dates[s.id],
            "office_step" if s.office else "step",
            s.title,
            bool(s.responsible) and len(s.done_unit_ids) == len(s.responsible),
            s.due_form.value,
            title,
        )
        for s in campaign_steps.steps
        if s.id in dates
    ]


def _unit_task(plan: Plan, task: UnitTask, today: date) -> Event | None:
    """A plan task of the unit: its next open due date if it recurs, else its date (None:
    undated, or no due date left)."""
    label = _task_label(task.no, task.content)
    if task.repeat is not None:
        marked = {period for period, _ in task.done_periods}
        days = occurrences(plan.year, task.repeat, task.repeat_day or 0, task.repeat_month)
        day = _next_open(days, today, marked)
        return Event(day, "task", label) if day is not None else None
    if task.due is None:  # an undated task has no place on a calendar
        return None
    return Event(task.due, "task", label, task.done_at is not None, task.due_form.value)


def _office_task(plan: Plan, status: TaskStatus, today: date) -> Event | None:
    """A plan task as the office sees it: a due date is done once every unit responsible
    marked it (None: undated, or no due date left)."""
    label = _task_label(status.no, status.content)
    responsible = {u.id for u in status.responsible}
    if status.repeat is not None:
        days = occurrences(plan.year, status.repeat, status.repeat_day or 0, status.repeat_month)
        complete = {
            period
            for period, units in (status.done_periods or {}).items()
            if responsible and responsible <= units
        }
        day = _next_open(days, today, complete)
        return Event(day, "task", label) if day is not None else None
    if status.due is None:
        return None
    done = bool(responsible) and responsible <= set(status.done)
    return Event(status.due, "task", label, done, status.due_form.value)


async def _unit_events(
    db: Database, tz: ZoneInfo, now: datetime, member: Membership, today: date
) -> list[Event]:
    """The unit's campaign deadlines and own steps, and its plan tasks with a date."""
    events: list[Event] = []
    async with db.read() as session:
        for campaign_steps in await unit_campaign_steps(session, member.unit_id, now):
            c = campaign_steps.campaign
            registered = bool(c.registration_deadline) and (
                await registration_of(session, c.id, member.unit_id) is not None
            )
            events += _deadlines(c, registered) + _unit_steps(campaign_steps, tz)
        for year in (today.year, today.year + 1):
            for plan in await plans_of_year(session, year, member.organization_id):
                tasks = await unit_tasks(session, plan.id, member.unit_id)
                events += [e for t in tasks if (e := _unit_task(plan, t, today)) is not None]
    return events


async def _office_events(
    db: Database, tz: ZoneInfo, now: datetime, member: Membership, today: date
) -> list[Event]:
    """Every campaign deadline and step (the office's own included) and every dated plan
    task of the member's organisation; done when every unit responsible has marked it."""
    events: list[Event] = []
    async with db.read() as session:
        for campaign_steps in await organization_campaign_steps(session, member.organization_id):
            c = campaign_steps.campaign
            if not launched(c, now):
                events.append(Event(c.launch_at.astimezone(tz).date(), "launch", c.title))
            events += _deadlines(c) + _office_steps(campaign_steps, tz)
        for year in (today.year, today.year + 1):
            for plan in await plans_of_year(session, year, member.organization_id):
                statuses = await plan_progress(session, plan.id)
                events += [e for t in statuses if (e := _office_task(plan, t, today)) is not None]
    return events


async def calendar_screens(
    db: Database,
    tz: ZoneInfo,
    now: datetime,
    member: Membership,
    per_page: int | None = PER_PAGE,
) -> list[str]:
    """The coming deadlines, nearest first, `per_page` to a screen (None: all on one; each
    entry's words are bounded by the template, so a page of PER_PAGE fits in one message)."""
    today = now.astimezone(tz).date()
    if member.role is Role.FOCAL:
        events = await _unit_events(db, tz, now, member, today)
    else:
        events = await _office_events(db, tz, now, member, today)
    coming = sorted((e for e in events if e.day >= today), key=lambda e: (e.day, e.kind, e.label))
    rows = [(e, (e.day - today).days, working_days_between(today, e.day)) for e in coming]
    step = per_page or max(len(rows), 1)
    return [
        render(
            "calendar/list",
            events=rows[start : start + step],
            unit=member.unit_name,
            office=member.role is not Role.FOCAL,
            today=today,
        )
        for start in range(0, max(len(rows), 1), step)
    ]


@guard()
async def show_calendar(update: Update, context: BotContext) -> None:
    """`/lich`: the unit's (or, for the office and leaders, the organisation's) coming
    deadlines, nearest first, with the working days left; the later ones on further pages."""
    assert context.member is not None
    rt = context.rt
    screens = await calendar_screens(rt.db, rt.tz, rt.now(), context.member)
    await show_page(update, screens, 0, Prefix.PAGE, Page.CALENDAR)


@guard()
async def turn_calendar_page(update: Update, context: BotContext) -> None:
    """A page button under /lich: that page, as the calendar is now."""
    assert update.callback_query is not None and context.member is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    page = int_arg(args, 0)
    if page is None:
        await stale(update)
        return
    rt = context.rt
    screens = await calendar_screens(rt.db, rt.tz, rt.now(), context.member)
    await show_page(update, screens, page, Prefix.PAGE, Page.CALENDAR)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The calendar command."""
    return [
        CommandHandler("lich", show_calendar),
        CallbackQueryHandler(turn_calendar_page, pattern=pattern(Prefix.PAGE, Page.CALENDAR)),
    ]

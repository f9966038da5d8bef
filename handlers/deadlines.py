"""`/lich`: coming deadlines and events, nearest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from scheduler.calendar import working_days_between
from scheduler.recurrence import Step, campaign_step_dates, occurrences
from storage.members import Membership
from storage.models import DueForm, Role
from storage.plans import plan_progress, plans_of_year, unit_tasks
from storage.registrations import registration_of
from storage.steps import CampaignSteps, organization_campaign_steps, unit_campaign_steps

MAX_EVENTS = 15


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


async def _unit_events(context: BotContext, member: Membership, today: date) -> list[Event]:
    """The unit's campaign deadlines and own steps, and its plan tasks with a date."""
    now, tz = context.rt.now(), context.rt.tz
    events: list[Event] = []
    async with context.rt.db.read() as session:
        for campaign_steps in await unit_campaign_steps(session, member.unit_id, now):
            c = campaign_steps.campaign
            if c.registration_deadline:
                registered = await registration_of(session, c.id, member.unit_id) is not None
                events.append(Event(c.registration_deadline, "registration", c.title, registered))
            if c.dossier_deadline:
                events.append(Event(c.dossier_deadline, "dossier", c.title))
            dates = step_dates(campaign_steps, tz)
            for s in campaign_steps.steps:
                if s.mine and s.id in dates:
                    done = s.done_at is not None
                    events.append(
                        Event(dates[s.id], "step", s.title, done, s.due_form.value, c.title)
                    )
        for year in (today.year, today.year + 1):
            for plan in await plans_of_year(session, year, member.organization_id):
                for t in await unit_tasks(session, plan.id, member.unit_id):
                    label = _task_label(t.no, t.content)
                    if t.repeat is not None:
                        marked = {period for period, _ in t.done_periods}
                        days = occurrences(plan.year, t.repeat, t.repeat_day or 0, t.repeat_month)
                        day = _next_open(days, today, marked)
                        if day is not None:
                            events.append(Event(day, "task", label))
                    elif t.due is not None:  # an undated task has no place on a calendar
                        events.append(
                            Event(t.due, "task", label, t.done_at is not None, t.due_form.value)
                        )
    return events


async def _office_events(context: BotContext, member: Membership, today: date) -> list[Event]:
    """Every campaign deadline and step (the office's own included) and every dated plan
    task of the member's organisation; done when every unit responsible has marked it."""
    now, tz = context.rt.now(), context.rt.tz
    events: list[Event] = []
    async with context.rt.db.read() as session:
        for campaign_steps in await organization_campaign_steps(session, member.organization_id):
            c = campaign_steps.campaign
            if c.launch_at > now:
                events.append(Event(c.launch_at.astimezone(tz).date(), "launch", c.title))
            if c.registration_deadline:
                events.append(Event(c.registration_deadline, "registration", c.title))
            if c.dossier_deadline:
                events.append(Event(c.dossier_deadline, "dossier", c.title))
            dates = step_dates(campaign_steps, tz)
            for s in campaign_steps.steps:
                if s.id not in dates:
                    continue
                kind = "office_step" if s.office else "step"
                done = bool(s.responsible) and len(s.done_unit_ids) == len(s.responsible)
                events.append(Event(dates[s.id], kind, s.title, done, s.due_form.value, c.title))
        for year in (today.year, today.year + 1):
            for plan in await plans_of_year(session, year, member.organization_id):
                for status in await plan_progress(session, plan.id):
                    label = _task_label(status.no, status.content)
                    responsible = {u.id for u in status.responsible}
                    if status.repeat is not None:
                        periods = status.done_periods or {}
                        days = occurrences(
                            plan.year, status.repeat, status.repeat_day or 0, status.repeat_month
                        )
                        complete = {
                            period
                            for period, units in periods.items()
                            if responsible and responsible <= units
                        }
                        day = _next_open(days, today, complete)
                        if day is not None:
                            events.append(Event(day, "task", label))
                    elif status.due is not None:
                        done = bool(responsible) and responsible <= set(status.done)
                        events.append(Event(status.due, "task", label, done, status.due_form.value))
    return events


@guard()
async def show_calendar(update: Update, context: BotContext) -> None:
    """`/lich`: the unit's (or, for the office and leaders, the organisation's) coming
    deadlines, nearest first, with the working days left."""
    assert update.effective_message is not None and context.member is not None
    member = context.member
    today = context.rt.now().astimezone(context.rt.tz).date()
    if member.role is Role.FOCAL:
        events = await _unit_events(context, member, today)
    else:
        events = await _office_events(context, member, today)
    coming = sorted((e for e in events if e.day >= today), key=lambda e: (e.day, e.kind, e.label))
    shown = [
        (e, (e.day - today).days, working_days_between(today, e.day)) for e in coming[:MAX_EVENTS]
    ]
    while True:
        text = render(
            "calendar/list",
            events=shown,
            more=len(coming) - len(shown),
            unit=member.unit_name,
            office=member.role is not Role.FOCAL,
            today=today,
        )
        if len(text) <= MessageLimit.MAX_TEXT_LENGTH or not shown:
            break
        shown.pop()  # long titles: fewer entries, and the count of the rest says so
    await update.effective_message.reply_text(text)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The calendar command."""
    return [CommandHandler("lich", show_calendar)]

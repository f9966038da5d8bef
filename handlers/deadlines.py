"""`/lich`: coming deadlines and events, nearest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from scheduler.calendar import working_days_between
from storage.campaigns import all_campaigns, launched_campaigns_of_unit
from storage.models import Role
from storage.plans import plan_progress, plans_of_year, unit_tasks
from storage.registrations import registration_of

MAX_EVENTS = 15


@dataclass(frozen=True, slots=True)
class Event:
    """One dated thing on the calendar."""

    day: date
    kind: str  # registration | dossier | task | launch
    label: str
    done: bool = False


@guard()
async def show_calendar(update: Update, context: BotContext) -> None:
    """`/lich`: the unit's (or, for the office, everyone's) coming deadlines."""
    assert update.effective_message is not None and context.member is not None
    member, now = context.member, context.rt.now()
    today = now.astimezone(context.rt.tz).date()
    events: list[Event] = []
    async with context.rt.db.read() as session:
        if member.role is Role.FOCAL:
            for c in await launched_campaigns_of_unit(session, member.unit_id, now):
                if c.registration_deadline:
                    registered = await registration_of(session, c.id, member.unit_id) is not None
                    events.append(
                        Event(c.registration_deadline, "registration", c.title, registered)
                    )
                if c.dossier_deadline:
                    events.append(Event(c.dossier_deadline, "dossier", c.title))
            for year in (today.year, today.year + 1):
                for plan in await plans_of_year(session, year, member.organization_id):
                    for t in await unit_tasks(session, plan.id, member.unit_id):
                        if t.due is None:
                            continue
                        events.append(
                            Event(t.due, "task", f"NV {t.no}: {t.content}", t.done_at is not None)
                        )
        else:
            for c in await all_campaigns(session, member.organization_id):
                local_launch = c.launch_at.astimezone(context.rt.tz).date()
                if c.launch_at > now:
                    events.append(Event(local_launch, "launch", c.title))
                if c.registration_deadline:
                    events.append(Event(c.registration_deadline, "registration", c.title))
                if c.dossier_deadline:
                    events.append(Event(c.dossier_deadline, "dossier", c.title))
            for year in (today.year, today.year + 1):
                for plan in await plans_of_year(session, year, member.organization_id):
                    for s in await plan_progress(session, plan.id):
                        if s.due is None:
                            continue
                        label = f"NV {s.no}: {s.content}"
                        done = len(s.done) == len(s.responsible)
                        events.append(Event(s.due, "task", label, done))
    coming = sorted((e for e in events if e.day >= today), key=lambda e: (e.day, e.kind))
    shown = [
        (e, (e.day - today).days, working_days_between(today, e.day)) for e in coming[:MAX_EVENTS]
    ]
    await update.effective_message.reply_text(
        render(
            "calendar/list",
            events=shown,
            more=max(len(coming) - MAX_EVENTS, 0),
            unit=member.unit_name,
            office=member.role is not Role.FOCAL,
            today=today,
        )
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The calendar command."""
    return [CommandHandler("lich", show_calendar)]

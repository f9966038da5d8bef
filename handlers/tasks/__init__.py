"""`/nhiemvu`: this quarter's plan tasks and campaign steps — a unit marks its own (each
occurrence of a recurring task apart); the office sees progress. The screens themselves are
handlers.tasks.screens."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date

from telegram import CallbackQuery, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.calendar import step_dates
from handlers.common import guard
from handlers.runtime import BotContext
from handlers.tasks.screens import PREFIX, Key, office_screens, unit_screen
from messages import render, render_text
from messages.callbacks import int_arg, pattern, unpack
from scheduler.calendar import quarter_of
from scheduler.recurrence import occurrences
from storage.members import Membership
from storage.models import Plan, PlanTask, Role
from storage.quarter_work import mark_step, mark_task
from storage.text import fold

_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}


def quarter_asked(args: list[str] | None, today: date) -> int | None:
    """`/nhiemvu 2`, `/nhiemvu Q2` or `/nhiemvu quy 2` (diacritics or not); None when the
    argument is not a quarter."""
    if not args:
        return quarter_of(today)
    word = fold("".join(args)).upper().removeprefix("QUY").removeprefix("Q")
    return _QUARTERS.get(word)


def _day_arg(text: str) -> date | None:
    """A date written yyyymmdd in a button's data, or None."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


# ---- the command and its buttons --------------------------------------------------------------


@guard()
async def show_tasks(update: Update, context: BotContext) -> None:
    """`/nhiemvu [quarter]`: a focal point's tasks and steps with buttons; the office's
    per-task and per-step progress."""
    assert update.effective_message is not None and context.member is not None
    today = context.rt.now().astimezone(context.rt.tz).date()
    quarter = quarter_asked(context.args, today)
    if quarter is None:
        await update.effective_message.reply_text(render("tasks/usage"))
        return
    if context.member.role is Role.FOCAL:
        text, markup = await unit_screen(context, context.member, today.year, quarter)
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    rt = context.rt
    for text in await office_screens(rt.db, rt.tz, rt.now(), context.member, today.year, quarter):
        await update.effective_message.reply_text(text)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a press changed, for the pop-up and the page to show again."""

    alert: str
    year: int
    quarter: int
    focus: Key


def period_of(task: PlanTask, plan: Plan, day: date | None) -> str | None:
    """The period a press marks: "" for a one-off task (whose button carries no date), the
    date for a recurring one if it is one of the task's due dates; None for anything else."""
    if task.repeat is None:
        return "" if day is None else None
    if day is None or day not in occurrences(
        plan.year, task.repeat, task.repeat_day or 0, task.repeat_month
    ):
        return None
    return day.isoformat()


async def _toggle_task(
    context: BotContext, member: Membership, done: bool, args: list[str]
) -> _Outcome | None:
    """Mark a task (`nv:d:<id>`) or one due date of a recurring task (`nv:d:<id>:<yyyymmdd>`);
    None when the task is not the unit's or the date is not one of its due dates."""
    task_id = int_arg(args)
    day = _day_arg(args[1]) if len(args) == 2 else None
    if task_id is None or len(args) > 2 or (len(args) == 2 and day is None):
        return None
    now = context.rt.now()
    async with context.rt.db.write() as session:
        marked = await mark_task(
            session,
            task_id,
            member.unit_id,
            done=done,
            by=member.telegram_user_id,
            now=now,
            period_of=lambda task, plan: period_of(task, plan, day),
        )
    if marked is None:
        return None
    year, no = marked.plan.year, marked.task.no
    today = now.astimezone(context.rt.tz).date()
    quarter = quarter_of(day) if day else marked.task.quarter or quarter_of(today)
    if day is None:
        alert = render_text("alerts/task_toggled", no=no, done=done)
    else:
        alert = render_text("alerts/occurrence_toggled", no=no, day=day, done=done)
    return _Outcome(alert, year, quarter, ("t", task_id, marked.period))


async def _toggle_step(
    context: BotContext, member: Membership, done: bool, args: list[str]
) -> _Outcome | None:
    """Mark a campaign step (`nv:sd:<id>`); None when it is not the unit's to meet."""
    step_id = int_arg(args)
    if step_id is None or len(args) != 1:
        return None
    now = context.rt.now()
    async with context.rt.db.write() as session:
        marked = await mark_step(
            session, step_id, member.unit_id, done=done, by=member.telegram_user_id, now=now
        )
    if marked is None:
        return None
    title = marked.step.title
    day = step_dates(marked.campaign, context.rt.tz).get(step_id)
    today = now.astimezone(context.rt.tz).date()
    shown = day or today
    alert = render_text("alerts/step_toggled", title=title, done=done)
    return _Outcome(alert, shown.year, quarter_of(shown), ("s", step_id, ""))


@guard(Role.FOCAL)
async def press(update: Update, context: BotContext) -> None:
    """A button of the unit's screen: done/undone (only for the presser's own unit's tasks,
    due dates and steps), or another page."""
    query = update.callback_query
    assert query is not None and context.member is not None
    member = context.member
    parsed = unpack(query.data, PREFIX)
    action, args = parsed if parsed else ("", [])
    if action == "p":
        await _turn_page(query, context, member, args)
        return
    outcome, refused = await _toggle(context, member, action, args)
    if outcome is None:
        await query.answer(render_text(refused), show_alert=True)
        return
    await query.answer(outcome.alert)
    text, markup = await unit_screen(
        context, member, outcome.year, outcome.quarter, focus=outcome.focus
    )
    with contextlib.suppress(BadRequest):  # the same screen (pressed twice): nothing to change
        await query.edit_message_text(text, reply_markup=markup)


async def _turn_page(
    query: CallbackQuery, context: BotContext, member: Membership, args: list[str]
) -> None:
    """Another page of the unit's screen (`nv:p:<quarter>:<page>`)."""
    quarter, page = int_arg(args), int_arg(args, 1)
    if quarter not in range(1, 5) or page is None or len(args) != 2:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return
    assert quarter is not None
    year = context.rt.now().astimezone(context.rt.tz).year
    text, markup = await unit_screen(context, member, year, quarter, page)
    await query.answer()
    with contextlib.suppress(BadRequest):  # the page shown already: nothing to change
        await query.edit_message_text(text, reply_markup=markup)


async def _toggle(
    context: BotContext, member: Membership, action: str, args: list[str]
) -> tuple[_Outcome | None, str]:
    """A done/undone press of a task or a step, with the pop-up a refused one gets."""
    if action in {"d", "u"}:
        return await _toggle_task(context, member, action == "d", args), "alerts/task_not_yours"
    if action in {"sd", "su"}:
        return await _toggle_step(context, member, action == "sd", args), "alerts/step_not_yours"
    return None, "alerts/task_not_yours"


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The tasks command and its buttons."""
    return [
        CommandHandler("nhiemvu", show_tasks),
        CallbackQueryHandler(press, pattern=pattern(PREFIX)),
    ]

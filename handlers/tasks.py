"""`/nhiemvu`: this quarter's plan tasks — a unit marks its own; the office sees progress."""

from __future__ import annotations

import contextlib
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard
from handlers.people import fold
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import int_arg, pattern, unpack
from messages.keyboards import rows, task_button
from scheduler.calendar import quarter_of
from storage.members import Membership
from storage.models import Plan, Role
from storage.plans import plan_for_year, plan_progress, set_task_done, task_for_unit, unit_tasks

PREFIX = "nv"
_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}


def _quarter_asked(args: list[str] | None, today: date) -> int | None:
    """`/nhiemvu 2`, `/nhiemvu Q2` or `/nhiemvu quy 2` (diacritics or not); None when the
    argument is not a quarter."""
    if not args:
        return quarter_of(today)
    word = fold("".join(args)).upper().removeprefix("QUY").removeprefix("Q")
    return _QUARTERS.get(word)


@guard()
async def show_tasks(update: Update, context: BotContext) -> None:
    """`/nhiemvu [quarter]`: a focal point's tasks with buttons; the office's per-task progress."""
    assert update.effective_message is not None and context.member is not None
    today = context.rt.now().astimezone(context.rt.tz).date()
    quarter = _quarter_asked(context.args, today)
    if quarter is None:
        await update.effective_message.reply_text(render("tasks/usage"))
        return
    if context.member.role is Role.FOCAL:
        text, markup = await _unit_screen(context, context.member, today.year, quarter)
    else:
        text, markup = await _office_screen(context, today.year, quarter), None
    await update.effective_message.reply_text(text, reply_markup=markup)


async def _unit_screen(
    context: BotContext, member: Membership, year: int, quarter: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    async with context.rt.db.read() as session:
        plan = await plan_for_year(session, year, member.organization_id)
        tasks = await unit_tasks(session, plan.id, member.unit_id, quarter) if plan else []
    text = render(
        "tasks/unit",
        year=year,
        quarter=quarter,
        plan=plan,
        unit=member.unit_name,
        tasks=tasks,
        tz=context.rt.tz,
    )
    markup = rows([task_button(t.done_at is not None, t.no, t.id) for t in tasks], per_row=2)
    return text, markup if tasks else None


async def _office_screen(context: BotContext, year: int, quarter: int) -> str:
    assert context.member is not None
    async with context.rt.db.read() as session:
        plan = await plan_for_year(session, year, context.member.organization_id)
        statuses = await plan_progress(session, plan.id, quarter) if plan else []
    return render("tasks/office", year=year, quarter=quarter, plan=plan, tasks=statuses)


@guard(Role.FOCAL)
async def toggle(update: Update, context: BotContext) -> None:
    """A done/undone button: only for a task of the presser's own unit."""
    query = update.callback_query
    assert query is not None and context.member is not None
    parsed = unpack(query.data, PREFIX)
    task_id = int_arg(parsed[1]) if parsed else None
    if parsed is None or task_id is None or parsed[0] not in {"d", "u"}:
        await query.answer(render_text("alerts/task_not_yours"), show_alert=True)
        return
    member, done = context.member, parsed[0] == "d"
    async with context.rt.db.write() as session:
        task = await task_for_unit(session, task_id, member.unit_id)
        if task is None:
            await query.answer(render_text("alerts/task_not_yours"), show_alert=True)
            return
        await set_task_done(
            session, task.id, member.unit_id, done, member.telegram_user_id, context.rt.now()
        )
        plan = await session.get_one(Plan, task.plan_id)
        year, quarter, no = plan.year, task.quarter or quarter_of(context.rt.now().date()), task.no
    await query.answer(render_text("alerts/task_toggled", no=no, done=done))
    text, markup = await _unit_screen(context, member, year, quarter)
    with contextlib.suppress(BadRequest):  # the same screen (pressed twice): nothing to change
        await query.edit_message_text(text, reply_markup=markup)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The tasks command and its buttons."""
    return [
        CommandHandler("nhiemvu", show_tasks),
        CallbackQueryHandler(toggle, pattern=pattern(PREFIX)),
    ]

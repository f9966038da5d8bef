"""`/thongbao` → buttons/scheduled: the announcements scheduled and not begun, each of
which the office may cancel (one asks, the other does). Buttons outside the /thongbao
flow, so the flow stays where it was."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.common import guard, pressed_number, stale
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Prefix, Scheduled, pattern
from messages.keyboards import button, grid, paged, text_button
from storage.models import Announcement, Role
from storage.scheduled_announcements import cancel_announcement, waiting_announcements

PREFIX = Prefix.SCHEDULED


async def waiting_count(context: BotContext) -> int:
    """How many announcements of the member's organisation wait to be sent."""
    assert context.member is not None
    async with context.rt.db.read() as session:
        waiting = await waiting_announcements(
            session, context.member.organization_id, context.rt.now()
        )
    return len(waiting)


def list_button(count: int) -> InlineKeyboardMarkup | None:
    """The buttons/scheduled button under /thongbao's first question, when anything waits."""
    if not count:
        return None
    return grid(
        [[text_button(render_text("buttons/scheduled", count=count), PREFIX, Scheduled.LIST)]]
    )


def _list_keyboard(waiting: list[Announcement], page: int, tz: ZoneInfo) -> InlineKeyboardMarkup:
    buttons = [
        text_button(
            render_text("buttons/cancel_scheduled", id=a.id, at=a.send_at.astimezone(tz)),
            PREFIX,
            Scheduled.ASK,
            a.id,
        )
        for a in waiting
    ]
    return grid(paged(buttons, page, PREFIX, Scheduled.LIST)[0])


@guard(Role.OFFICE)
async def show_waiting(update: Update, context: BotContext) -> None:
    """The scheduled announcements, soonest first, a cancel button each."""
    assert context.member is not None
    page = pressed_number(update, PREFIX) or 0
    async with context.rt.db.read() as session:
        waiting = await waiting_announcements(
            session, context.member.organization_id, context.rt.now()
        )
    text = render("announce/scheduled", waiting=waiting, tz=context.rt.tz)
    await say_anew(update, text, _list_keyboard(waiting, page, context.rt.tz) if waiting else None)


async def _one(context: BotContext, announcement_id: int | None) -> Announcement | None:
    assert context.member is not None
    if announcement_id is None:
        return None
    async with context.rt.db.read() as session:
        waiting = await waiting_announcements(
            session, context.member.organization_id, context.rt.now()
        )
    return next((a for a in waiting if a.id == announcement_id), None)


@guard(Role.OFFICE)
async def ask_cancel(update: Update, context: BotContext) -> None:
    """A cancel button: which announcement, and one more press to cancel it."""
    announcement = await _one(context, pressed_number(update, PREFIX))
    if announcement is None:  # not this office's, begun meanwhile, or never was: one answer
        await stale(update)
        return
    keyboard = grid(
        [
            [button("cancel_scheduled_yes", PREFIX, Scheduled.CANCEL, announcement.id)],
            [button("back", PREFIX, Scheduled.LIST)],
        ]
    )
    text = render("announce/cancel_ask", announcement=announcement, tz=context.rt.tz)
    await say_anew(update, text, keyboard)


@guard(Role.OFFICE)
async def cancel_one(update: Update, context: BotContext) -> None:
    """The second press: the announcement is cancelled, if it still waits."""
    assert context.member is not None
    announcement_id = pressed_number(update, PREFIX)
    cancelled = None
    if announcement_id is not None:
        async with context.rt.db.write() as session:
            cancelled = await cancel_announcement(
                session, context.member.organization_id, announcement_id, context.rt.now()
            )
    if cancelled is None:
        await stale(update)
        return
    text = render("announce/cancel_done", announcement=cancelled, tz=context.rt.tz)
    await say_anew(update, text)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The buttons of the scheduled announcements."""
    return [
        CallbackQueryHandler(show_waiting, pattern=pattern(PREFIX, Scheduled.LIST)),
        CallbackQueryHandler(ask_cancel, pattern=pattern(PREFIX, Scheduled.ASK)),
        CallbackQueryHandler(cancel_one, pattern=pattern(PREFIX, Scheduled.CANCEL)),
    ]

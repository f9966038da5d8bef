"""/duyet, under a dossier: its history (every change, who and when) and its access log (who
was sent its files), newest first, in pages (PRODUCT §11). The office of the dossier's
organisation only; an id of another body's dossier gets the answer of an unknown one."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from handlers.common import guard, pressed_number, route, stale
from handlers.replies import show_page
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Page, Prefix, Review, int_arg, pattern, unpack
from messages.keyboards import button, grid, page_row
from messages.long_text import MAX_TEXT, PAGE_ROOM, pages
from storage.audit import HISTORY_SHOWN, DossierLog, dossier_log
from storage.models import Role

FILES_NAMED = 5  # file names written out in one entry of the access log; the rest counted


def log_buttons(nominee_id: int) -> list[InlineKeyboardButton]:
    """The row under a dossier opened in /duyet: its history, and who was sent its files."""
    return [
        button("dossier_log", Prefix.REVIEW, Review.LOG, nominee_id),
        button("dossier_reads", Prefix.REVIEW, Review.READS, nominee_id),
    ]


def log_screens(log: DossierLog, *, reads: bool, tz: ZoneInfo, limit: int = MAX_TEXT) -> list[str]:
    """A dossier's history (or, `reads`, its access log) as pages of at most `limit`
    characters, each under the heading; a line at the foot when only the newest are read."""
    head = render("review/log_head", nominee=log.nominee_name, unit=log.unit_name, reads=reads)
    if reads:
        blocks = [render("review/log_read", r=r, tz=tz, shown=FILES_NAMED) for r in log.reads]
        bounded = log.reads_bounded
    else:
        blocks = [render("review/log_event", e=e, tz=tz) for e in log.history]
        bounded = len(log.history) >= HISTORY_SHOWN
    shown = len(blocks)
    foot = render("review/log_foot", shown=shown) if bounded else ""
    if not blocks:
        blocks = [render("review/log_none", reads=reads)]
    return pages(blocks, head=head, foot=foot, limit=limit - PAGE_ROOM)


async def _screens(context: BotContext, nominee_id: int | None, *, reads: bool) -> list[str] | None:
    """The pages of the office's dossier, read now; None when it is not the office's."""
    assert context.member is not None
    if not nominee_id:
        return None
    async with context.rt.db.read() as session:
        log = await dossier_log(
            session,
            nominee_id,
            context.member.organization_id,
            history=not reads,
            reads=reads,
        )
    return log_screens(log, reads=reads, tz=context.rt.tz) if log is not None else None


def _page_of(reads: bool) -> Page:
    return Page.DOSSIER_READS if reads else Page.DOSSIER_LOG


async def _first_page(update: Update, context: BotContext, *, reads: bool) -> None:
    """The first page, as a new message under the dossier (its buttons stay)."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    nominee_id = pressed_number(update, Prefix.REVIEW)
    screens = await _screens(context, nominee_id, reads=reads)
    if screens is None or nominee_id is None:
        await stale(update)
        return
    await query.answer()
    rows = page_row(0, len(screens), Prefix.PAGE, _page_of(reads), nominee_id)
    await chat.send_message(screens[0], reply_markup=grid([rows]) if len(screens) > 1 else None)


async def _turn(update: Update, context: BotContext, *, reads: bool) -> None:
    """Another page, read again with the presser's rights."""
    assert update.callback_query is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    nominee_id, page = int_arg(args, 0), int_arg(args, 1)
    screens = await _screens(context, nominee_id, reads=reads) if page is not None else None
    if screens is None or nominee_id is None or page is None:
        await stale(update)
        return
    await show_page(update, screens, page, Prefix.PAGE, _page_of(reads), nominee_id)


@guard(Role.OFFICE)
async def show_log(update: Update, context: BotContext) -> None:
    """🕘 under a dossier: its changes, newest first."""
    await _first_page(update, context, reads=False)


@guard(Role.OFFICE)
async def show_reads(update: Update, context: BotContext) -> None:
    """👁 under a dossier: who was sent its files, when and how, newest first."""
    await _first_page(update, context, reads=True)


@guard(Role.OFFICE)
async def turn_log_page(update: Update, context: BotContext) -> None:
    """A page button under a dossier's history."""
    await _turn(update, context, reads=False)


@guard(Role.OFFICE)
async def turn_reads_page(update: Update, context: BotContext) -> None:
    """A page button under a dossier's access log."""
    await _turn(update, context, reads=True)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The history and access-log buttons of a dossier, and their pages."""
    return [
        route(Prefix.REVIEW, Review.LOG, show_log),
        route(Prefix.REVIEW, Review.READS, show_reads),
        CallbackQueryHandler(turn_log_page, pattern=pattern(Prefix.PAGE, Page.DOSSIER_LOG)),
        CallbackQueryHandler(turn_reads_page, pattern=pattern(Prefix.PAGE, Page.DOSSIER_READS)),
    ]

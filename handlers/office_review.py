"""`/duyet`: the office's review queue, each dossier's files, approve or return with a note, ZIP."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import tempfile
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.common import flow_handler, guard, pressed_number, route
from handlers.runtime import BotContext
from messages import render, render_text
from messages.archives import ArchiveEntry, build_dossier_zip
from messages.keyboards import button, grid, rows
from scheduler.calendar import working_days_between
from storage.campaigns import all_campaigns
from storage.files import blob_path
from storage.members import members_of_unit
from storage.models import Award, Campaign, Nominee, ReviewState, Role, Unit
from storage.quotas import quota_report
from storage.reviews import (
    QueueItem,
    campaign_uploads,
    current_files,
    nominee_by_id,
    review_queue,
    set_review,
)

log = logging.getLogger(__name__)
PREFIX = "dy"
NOTE_KEY = "duyet_return"
MAX_NOTE = 1000
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may send through the public Bot API
QUEUE_SHOWN = 20  # dossiers listed (and buttons) in one /duyet screen: short lines, one message
AWARDS_SHOWN = 8  # award lines of one campaign in the quota screen


class State(enum.IntEnum):
    """Waiting for the note of a return."""

    NOTE = 1


def _campaigns_with_dossiers(campaigns: list[Campaign], today: date) -> list[Campaign]:
    return [
        c
        for c in campaigns
        if c.dossier_deadline is not None and c.end >= date(today.year - 1, 1, 1)
    ]


def _org(context: BotContext) -> int:
    """The office's organisation: it reviews its own campaigns' dossiers only."""
    assert context.member is not None
    return context.member.organization_id


def overdue_by(complete_on: date, today: date, limit: int | None) -> int:
    """Working days a complete dossier is past the office's review limit (0: not overdue)."""
    if limit is None:
        return 0
    return max(working_days_between(complete_on, today) - limit, 0)


def by_urgency(
    queue: Sequence[QueueItem], today: date, tz: ZoneInfo
) -> list[tuple[QueueItem, int]]:
    """The queue with how overdue each dossier is: overdue ones first, the longest waiting
    first among them; the rest in the queue's order."""
    marked = [
        (
            item,
            overdue_by(
                item.status.complete_since.astimezone(tz).date(),
                today,
                item.campaign.review_within_working_days,
            )
            if item.status.complete_since is not None
            else 0,
        )
        for item in queue
    ]
    late = sorted((m for m in marked if m[1]), key=lambda m: -m[1])
    return late + [m for m in marked if not m[1]]


def pack(blocks: Sequence[str], limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Blocks (each within `limit`) joined by blank lines into as few messages as fit."""
    messages: list[str] = []
    for block in blocks:
        if messages and len(messages[-1]) + 2 + len(block) <= limit:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages


@guard(Role.OFFICE)
async def show_queue(update: Update, context: BotContext) -> None:
    """`/duyet`: proposals against quotas, then the dossiers awaiting review (overdue first)
    with a button each and the ZIP buttons."""
    assert update.effective_message is not None and context.member is not None
    tz = context.rt.tz
    today = context.rt.now().astimezone(tz).date()
    async with context.rt.db.read() as session:
        mine = await all_campaigns(session, context.member.organization_id)
        campaigns = _campaigns_with_dossiers(mine, today)
        queue = by_urgency(await review_queue(session, campaigns), today, tz)
        quotas = await quota_report(session, campaigns)
    blocks = [render("review/quotas", report=q, shown=AWARDS_SHOWN) for q in quotas if q.awards]
    for text in pack(blocks):
        await update.effective_message.reply_text(text)
    buttons = [
        button(
            ("⏰ " if late else "")
            + f"{item.unit.code} · {item.status.nominee.name} ({item.status.award.code})"[:60],
            PREFIX,
            "o",
            item.status.nominee.id,
        )
        for item, late in queue[:QUEUE_SHOWN]
    ]
    buttons += [
        button(render_text("buttons/zip", code=c.code), PREFIX, "z", c.id) for c in campaigns
    ]
    await update.effective_message.reply_text(
        render(
            "review/queue",
            queue=queue,
            late=sum(1 for _, late in queue if late),
            shown=min(len(queue), QUEUE_SHOWN),
        ),
        reply_markup=rows(buttons) if buttons else None,
    )


@guard(Role.OFFICE)
async def open_dossier(update: Update, context: BotContext) -> None:
    """Open a dossier: it is now in review; its files are re-sent by file_id."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None and context.member is not None
    nominee_id = pressed_number(update, PREFIX)
    async with context.rt.db.write() as session:
        nominee = await nominee_by_id(session, nominee_id, _org(context)) if nominee_id else None
        if nominee is None:
            await query.answer(render_text("alerts/stale_button"), show_alert=True)
            return
        if nominee.review_state is ReviewState.NONE:
            await set_review(
                session,
                nominee,
                ReviewState.IN_REVIEW,
                by=context.member.telegram_user_id,
                now=context.rt.now(),
            )
        files = await current_files(session, nominee)
        unit = await session.get_one(Unit, nominee.unit_id)
        award = await session.get_one(Award, nominee.award_id)
        campaign = await session.get_one(Campaign, nominee.campaign_id)
    await query.answer()
    chat = update.effective_chat
    for document, upload in files:
        label = document.name if document else render_text("buttons/other_document")
        await chat.send_document(
            upload.telegram_file_id,
            caption=render(
                "review/file_caption",
                document=label,
                name=upload.original_name,
                at=upload.uploaded_at.astimezone(context.rt.tz),
            ),
        )
    await chat.send_message(
        render(
            "review/decide",
            nominee=nominee,
            unit=unit,
            award=award,
            campaign=campaign,
            files=len(files),
        ),
        reply_markup=grid(
            [
                [
                    button(render_text("buttons/approve"), PREFIX, "a", nominee.id),
                    button(render_text("buttons/return"), PREFIX, "r", nominee.id),
                ]
            ]
        ),
    )


async def _tell_unit(context: BotContext, unit_id: int, text: str) -> int:
    """Send a message to every active focal point of the unit at once; how many got it."""
    async with context.rt.db.read() as session:
        members = [m for m in await members_of_unit(session, unit_id) if m.role is Role.FOCAL]
    sent = 0
    for member in members:
        try:
            await context.bot.send_message(member.chat_id, text)
            sent += 1
        except TelegramError as exc:  # blocked or gone: the decision stands; /hoso shows it
            log.warning("could not tell chat %s of a review: %s", member.chat_id, exc)
    return sent


async def _decided(
    update: Update, context: BotContext, nominee: Nominee, state: ReviewState, note: str | None
) -> None:
    assert context.member is not None and update.effective_chat is not None
    async with context.rt.db.write() as session:
        fresh = await nominee_by_id(session, nominee.id)
        if fresh is None:
            return
        await set_review(
            session,
            fresh,
            state,
            by=context.member.telegram_user_id,
            now=context.rt.now(),
            note=note,
        )
        campaign = await session.get_one(Campaign, fresh.campaign_id)
    template = "review/told_approved" if state is ReviewState.APPROVED else "review/told_returned"
    told = await _tell_unit(
        context, nominee.unit_id, render(template, nominee=nominee, campaign=campaign, note=note)
    )
    await update.effective_chat.send_message(
        render("review/done", nominee=nominee, approved=state is ReviewState.APPROVED, told=told)
    )


@guard(Role.OFFICE)
async def approve(update: Update, context: BotContext) -> None:
    """Approve: the dossier is approved and the unit told."""
    query = update.callback_query
    assert query is not None
    nominee_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        nominee = await nominee_by_id(session, nominee_id, _org(context)) if nominee_id else None
    if nominee is None:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    await _decided(update, context, nominee, ReviewState.APPROVED, None)


@guard(Role.OFFICE)
async def ask_note(update: Update, context: BotContext) -> int | None:
    """Return for additions: ask what the unit must add."""
    query = update.callback_query
    assert query is not None and context.user_data is not None and update.effective_chat is not None
    nominee_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        nominee = await nominee_by_id(session, nominee_id, _org(context)) if nominee_id else None
    if nominee is None:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    context.user_data[NOTE_KEY] = nominee.id
    await update.effective_chat.send_message(render("review/ask_note", nominee=nominee))
    return State.NOTE


@guard(Role.OFFICE)
async def note_given(update: Update, context: BotContext) -> int:
    """The note: the dossier goes back to the unit with it."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    note = " ".join((message.text or "").split())
    if not 3 <= len(note) <= MAX_NOTE:
        await message.reply_text(render("review/bad_note", limit=MAX_NOTE))
        return State.NOTE
    nominee_id = context.user_data.pop(NOTE_KEY, None)
    async with context.rt.db.read() as session:
        nominee = (
            await nominee_by_id(session, nominee_id, _org(context))
            if isinstance(nominee_id, int)
            else None
        )
    if nominee is None:
        await message.reply_text(render("registration/lost"))
        return ConversationHandler.END
    await _decided(update, context, nominee, ReviewState.RETURNED, note)
    return ConversationHandler.END


@guard(Role.OFFICE)
async def cancel_note(update: Update, context: BotContext) -> int:
    """/huy while writing a note: nothing changes."""
    assert update.effective_message is not None and context.user_data is not None
    context.user_data.pop(NOTE_KEY, None)
    await update.effective_message.reply_text(render("review/note_cancelled"))
    return ConversationHandler.END


@guard(Role.OFFICE)
async def send_zip(update: Update, context: BotContext) -> None:
    """📦: every placed file of a campaign as one ZIP with a manifest of hashes."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    campaign_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        campaign = await session.get(Campaign, campaign_id) if campaign_id else None
        if campaign is not None and campaign.organization_id != _org(context):
            campaign = None
        rows_ = await campaign_uploads(session, campaign.id) if campaign else []
    if campaign is None:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return
    await query.answer()
    if not rows_:
        await update.effective_chat.send_message(render("review/zip_empty", campaign=campaign))
        return
    tz, files_dir = context.rt.tz, context.rt.files_dir
    entries = [
        ArchiveEntry(
            unit_code=unit.code,
            unit_name=unit.name,
            nominee=nominee.name if nominee else None,
            document=document.name if document else render_text("buttons/other_document"),
            original_name=upload.original_name,
            path=blob_path(files_dir, stored.path),
            sha256=stored.sha256,
            size=stored.size,
            uploaded_at=upload.uploaded_at.astimezone(tz).replace(tzinfo=None),
            uploaded_by=str(upload.uploaded_by),
        )
        for unit, nominee, document, upload, stored in rows_
    ]
    with tempfile.TemporaryFile() as out:
        await asyncio.to_thread(build_dossier_zip, campaign.code, campaign.title, entries, out)
        size = out.tell()
        if size > TELEGRAM_UPLOAD_LIMIT:
            await update.effective_chat.send_message(
                render("review/zip_too_big", size_mb=size // 2**20)
            )
            return
        out.seek(0)
        await update.effective_chat.send_document(
            out,
            filename=f"ho-so-{campaign.code}.zip",
            caption=render("review/zip_caption", campaign=campaign, files=len(entries)),
        )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The review command, its buttons, and the note conversation."""
    note = flow_handler(
        entry_points=[route(PREFIX, "r", ask_note)],
        states={State.NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND, note_given)]},
        fallbacks=[CommandHandler("huy", cancel_note)],
        name="duyet_note",
        conversation_timeout=30 * 60,
    )
    return [
        note,
        CommandHandler("duyet", show_queue),
        route(PREFIX, "o", open_dossier),
        route(PREFIX, "a", approve),
        route(PREFIX, "z", send_zip),
    ]

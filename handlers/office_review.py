"""`/duyet`: the office's review queue, each dossier's files, approve or return with a note, ZIP."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import begin, draft_of, guard, pressed_number, route
from handlers.flow import END, Flow
from handlers.review_history import log_buttons
from handlers.review_queue import by_urgency
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Prefix, Review
from messages.keyboards import button, grid, label, rows, text_button
from messages.long_text import pack_blocks
from storage.eligibility import Eligibility
from storage.eligibility_hints import nominee_hint
from storage.files import FileKind, delivery_name, read_blob
from storage.models import (
    Campaign,
    Nominee,
    RequiredDocument,
    ReviewState,
    Role,
    StoredFile,
    Upload,
)
from storage.review_decisions import OpenedDossier, decide
from storage.review_decisions import open_dossier as open_for_review
from storage.reviews import (
    QueueItem,
    nominee_by_id,
    review_screen,
)
from storage.uploads import stored_files_of

log = logging.getLogger(__name__)

PREFIX = Prefix.REVIEW
Act = Review
NOTE_FLOW = "duyet_note"


@dataclass(slots=True)
class ReturnNote:
    """The dossier whose return note the office is writing."""

    unit_id: int  # the office's unit (a draft belongs to the unit of who writes it)
    nominee_id: int


def _unit(context: BotContext) -> int:
    assert context.member is not None
    return context.member.unit_id


MAX_NOTE = 1000
QUEUE_SHOWN = 20  # dossiers listed (and buttons) in one /duyet screen: short lines, one message
AWARDS_SHOWN = 8  # award lines of one campaign in the quota screen


class State(enum.IntEnum):
    """Waiting for the note of a return."""

    NOTE = 1


def _org(context: BotContext) -> int:
    """The office's organisation: it reviews its own campaigns' dossiers only."""
    assert context.member is not None
    return context.member.organization_id


@guard(Role.OFFICE)
async def show_queue(update: Update, context: BotContext) -> None:
    """`/duyet`: proposals against quotas, then the dossiers awaiting review (overdue first)
    with a button each and the ZIP buttons."""
    assert update.effective_message is not None and context.member is not None
    tz = context.rt.tz
    today = context.rt.now().astimezone(tz).date()
    async with context.rt.db.read() as session:
        screen = await review_screen(session, context.member.organization_id, today)
    queue = by_urgency(screen.queue, today, tz)
    quotas = [
        render("review/quotas", report=q, shown=AWARDS_SHOWN) for q in screen.quotas if q.awards
    ]
    for text in pack_blocks(quotas):
        await update.effective_message.reply_text(text)
    buttons = _queue_buttons(queue, screen.campaigns)
    await update.effective_message.reply_text(
        render(
            "review/queue",
            queue=queue,
            late=sum(1 for _, late in queue if late),
            shown=min(len(queue), QUEUE_SHOWN),
        ),
        reply_markup=rows(buttons) if buttons else None,
    )


def _queue_buttons(
    queue: Sequence[tuple[QueueItem, int]], campaigns: Sequence[Campaign]
) -> list[InlineKeyboardButton]:
    """A button per dossier shown (with how overdue it is), then a ZIP button per campaign."""
    buttons = [
        text_button(
            label(
                "review_item",
                late=late,
                unit=item.unit.code,
                nominee=item.status.nominee.name,
                award=item.status.award.code,
            ),
            PREFIX,
            "o",
            item.status.nominee.id,
        )
        for item, late in queue[:QUEUE_SHOWN]
    ]
    return buttons + [
        text_button(render_text("buttons/zip", code=c.code), PREFIX, Act.ZIP, c.id)
        for c in campaigns
    ]


@guard(Role.OFFICE)
async def open_dossier(update: Update, context: BotContext) -> None:
    """Open a dossier: it is now in review; its files are re-sent from the store."""
    query = update.callback_query
    assert query is not None
    nominee_id = pressed_number(update, PREFIX)
    if not nominee_id or not await _show_dossier(update, context, nominee_id, answer=True):
        await query.answer(render_text("alerts/stale_button"), show_alert=True)


async def _show_dossier(
    update: Update, context: BotContext, nominee_id: int, *, answer: bool
) -> bool:
    """The dossier's files, re-sent from the store, and the decision buttons under them
    (carrying what was shown); False when it is not the office's."""
    chat, member = update.effective_chat, context.member
    assert chat is not None and member is not None
    async with context.rt.db.write() as session:
        opened = await open_for_review(
            session, nominee_id, _org(context), by=member.telegram_user_id, now=context.rt.now()
        )
        stored = await stored_files_of(session, [u for _, u in opened.files]) if opened else {}
        hint = opened and await nominee_hint(
            session, _org(context), opened.campaign, opened.nominee, opened.award, context.rt.now()
        )
    if opened is None:
        return False
    if answer and update.callback_query is not None:
        await update.callback_query.answer()
    for document, upload in opened.files:
        await _resend(chat, context, opened, document, upload, stored[upload.stored_file_id])
    seen = max((upload.id for _, upload in opened.files), default=0)
    await chat.send_message(
        _decide_text(opened, hint), reply_markup=_decide_keyboard(opened.nominee.id, seen)
    )
    return True


async def _resend(
    chat: Chat,
    context: BotContext,
    opened: OpenedDossier,
    document: RequiredDocument | None,
    upload: Upload,
    stored: StoredFile,
) -> None:
    """One file of the dossier, sent from the store under a name of the dossier with the
    extension of its real type (a file_id would keep the sender's name, e.g. "x.bat");
    the sender's name is in the caption."""
    try:
        data = await asyncio.to_thread(read_blob, context.rt.files_dir, stored.path)
    except (OSError, ValueError):
        log.error("stored file %s of upload %s cannot be read", stored.path, upload.id)
        return
    name = delivery_name(
        opened.unit.code,
        opened.nominee.name if upload.nominee_id is not None else None,
        document.name if document else None,
        stored.sha256,
        FileKind(stored.kind),
    )
    caption = _file_caption(document, upload, context.rt.tz)
    await chat.send_document(data, filename=name, caption=caption)


def _file_caption(document: RequiredDocument | None, upload: Upload, tz: ZoneInfo) -> str:
    """The caption of a re-sent file: its document, its name and when it came."""
    return render(
        "review/file_caption",
        document=document.name if document else render_text("buttons/other_document"),
        name=upload.original_name,
        at=upload.uploaded_at.astimezone(tz),
    )


def _decide_text(opened: OpenedDossier, hint: Eligibility | None = None) -> str:
    """The dossier just opened, under its files: whose, for what, how many files, and the
    eligibility hint from the nominee's history, if any (it warns, never decides)."""
    return render(
        "review/decide",
        nominee=opened.nominee,
        unit=opened.unit,
        award=opened.award,
        campaign=opened.campaign,
        files=len(opened.files),
        eligibility=hint,
    )


def _decide_keyboard(nominee_id: int, seen: int) -> InlineKeyboardMarkup:
    """Approve or return the dossier, side by side, its history and access log under them;
    approving carries the version of the files shown (`seen`), so that a file sent meanwhile
    is never approved unseen."""
    yes = button("approve", PREFIX, Act.APPROVE, nominee_id, seen)
    return grid([[yes, button("return", PREFIX, Act.RETURN, nominee_id)], log_buttons(nominee_id)])


def _told_unit(state: ReviewState, note: str | None) -> Callable[[Nominee, Campaign], str]:
    """The notice a decision puts in the outbox for the unit, given the nominee and campaign."""
    approved = state is ReviewState.APPROVED
    template = "review/told_approved" if approved else "review/told_returned"
    return lambda nominee, campaign: render(template, nominee=nominee, campaign=campaign, note=note)


async def _decided(
    update: Update,
    context: BotContext,
    nominee: Nominee,
    state: ReviewState,
    note: str | None,
    seen: int | None = None,
) -> None:
    """Record the decision and, in the same transaction, the unit's notice in the outbox
    (once per decision, a double tap included); then tell the office."""
    assert context.member is not None and update.effective_chat is not None
    async with context.rt.db.write() as session:
        decision = await decide(
            session,
            nominee.id,
            state,
            by=context.member.telegram_user_id,
            now=context.rt.now(),
            note=note,
            notice=_told_unit(state, note),
            seen=seen,
            fan_out=context.rt.fan_out(),
        )
    if decision is None:
        return
    if decision.changed:  # new files since it was opened: shown again, decided on those
        await update.effective_chat.send_message(render("review/changed", nominee=nominee))
        await _show_dossier(update, context, nominee.id, answer=False)
        return
    if decision.again:
        await update.effective_chat.send_message(render("review/already", nominee=nominee))
        return
    context.rt.poke()  # the notice is due now: have it delivered at once
    await update.effective_chat.send_message(
        render(
            "review/done",
            nominee=nominee,
            approved=state is ReviewState.APPROVED,
            told=decision.told,
        ),
        reply_markup=grid([log_buttons(nominee.id)]),  # the dossier's buttons went with it
    )


async def _pressed_nominee(update: Update, context: BotContext) -> Nominee | None:
    """The office's nominee a decision button names, its keyboard taken away; None (after the
    old-button pop-up) for any other."""
    query = update.callback_query
    assert query is not None
    nominee_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        nominee = await nominee_by_id(session, nominee_id, _org(context)) if nominee_id else None
    if nominee is None:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return None
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    return nominee


@guard(Role.OFFICE)
async def approve(update: Update, context: BotContext) -> None:
    """Approve: the dossier is approved and the unit told."""
    nominee = await _pressed_nominee(update, context)
    seen = pressed_number(update, PREFIX, 1)
    if nominee is not None:
        # An approve button without the version shown (an old message): the files are shown
        # again, as for a changed dossier.
        await _decided(
            update, context, nominee, ReviewState.APPROVED, None, -1 if seen is None else seen
        )


@guard(Role.OFFICE)
async def ask_note(update: Update, context: BotContext) -> int | None:
    """Return for additions: ask what the unit must add."""
    assert update.callback_query is not None and update.effective_chat is not None
    nominee = await _pressed_nominee(update, context)
    if nominee is None:
        return END
    begin(context, NOTE_FLOW, ReturnNote(unit_id=_unit(context), nominee_id=nominee.id))
    await update.effective_chat.send_message(render("review/ask_note", nominee=nominee))
    return State.NOTE


@guard(Role.OFFICE)
async def note_given(update: Update, context: BotContext) -> int:
    """The note: the dossier goes back to the unit with it."""
    message = update.effective_message
    assert message is not None
    note = " ".join((message.text or "").split())
    if not 3 <= len(note) <= MAX_NOTE:
        await message.reply_text(render("review/bad_note", limit=MAX_NOTE))
        return State.NOTE
    draft = draft_of(context, NOTE_FLOW, ReturnNote)
    nominee_id = draft.nominee_id if draft is not None else None
    async with context.rt.db.read() as session:
        nominee = (
            await nominee_by_id(session, nominee_id, _org(context))
            if isinstance(nominee_id, int)
            else None
        )
    if nominee is None:
        await message.reply_text(render("registration/lost"))
        return END
    await _decided(update, context, nominee, ReviewState.RETURNED, note)
    return END


@guard(Role.OFFICE)
async def cancel_note(update: Update, context: BotContext) -> int:
    """/huy while writing a note: nothing changes."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("review/note_cancelled"))
    return END


NOTE = Flow(
    name=NOTE_FLOW,
    templates="review",
    states=State,
    draft_type=ReturnNote,
    entries=[route(PREFIX, Act.RETURN, ask_note)],
    steps={State.NOTE: [MessageHandler(filters.TEXT & ~filters.COMMAND, note_given)]},
    on_cancel=cancel_note,
)


def handlers() -> list[object]:
    """The review command, its buttons, and the note flow."""
    return [
        NOTE,
        CommandHandler("duyet", show_queue),
        route(PREFIX, Act.OPEN, open_dossier),
        route(PREFIX, Act.APPROVE, approve),
    ]

"""📦 in /duyet: every placed file of one of the office's campaigns as one ZIP, with a
manifest of hashes, sent in the chat (or a line saying why it cannot be); each file in it
logged as read by who asked (the access log, PRODUCT §11)."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Chat, Update

from handlers.common import guard, pressed_number, route
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Prefix, Review
from messages.exports.dossier_archive import ArchiveEntry, build_dossier_zip
from storage.audit import ReadHow, record_reads
from storage.files import FileKind, blob_path, delivery_name
from storage.models import Campaign, Role, Upload
from storage.reviews import (
    CampaignUpload,
    office_campaign_uploads,
)

PREFIX = Prefix.REVIEW
TELEGRAM_UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may send through the public Bot API


def _org(context: BotContext) -> int:
    """The office's organisation: only its own campaigns are packed."""
    assert context.member is not None
    return context.member.organization_id


@guard(Role.OFFICE)
async def send_zip(update: Update, context: BotContext) -> None:
    """📦: every placed file of a campaign as one ZIP with a manifest of hashes."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    campaign_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        found = (
            await office_campaign_uploads(session, campaign_id, _org(context))
            if campaign_id
            else None
        )
    if found is None:
        await query.answer(render_text("alerts/stale_button"), show_alert=True)
        return
    await query.answer()
    campaign, uploads = found
    if not uploads:
        await chat.send_message(render("review/zip_empty", campaign=campaign))
        return
    entries = _archive_entries(uploads, context.rt.tz, context.rt.files_dir)
    await _send_archive(chat, context, campaign, entries, [row[3] for row in uploads])


async def _send_archive(
    chat: Chat,
    context: BotContext,
    campaign: Campaign,
    entries: list[ArchiveEntry],
    uploads: Sequence[Upload],
) -> None:
    """Build the ZIP aside and, unless it is over what a bot may upload, log its files as read
    by the office member (before it leaves: a log never misses a file sent) and send it."""
    member = context.member
    assert member is not None
    with tempfile.TemporaryFile() as out:
        await asyncio.to_thread(build_dossier_zip, campaign.code, campaign.title, entries, out)
        size = out.tell()
        if size > TELEGRAM_UPLOAD_LIMIT:
            await chat.send_message(render("review/zip_too_big", size_mb=size // 2**20))
            return
        async with context.rt.db.write() as session:
            await record_reads(
                session,
                uploads,
                reader_id=member.telegram_user_id,
                reader_name=member.full_name,
                at=context.rt.now(),
                how=ReadHow.ZIP,
            )
        out.seek(0)
        await chat.send_document(
            out,
            filename=f"ho-so-{campaign.code}.zip",
            caption=render("review/zip_caption", campaign=campaign, files=len(entries)),
        )


def _archive_entries(
    uploads: Sequence[CampaignUpload], tz: ZoneInfo, files_dir: Path
) -> list[ArchiveEntry]:
    """The ZIP's entries: each placed file with where it belongs, its blob and its hash,
    named after its dossier with its real extension (the sender's name is in the manifest)."""
    return [
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
            file_name=delivery_name(
                unit.code,
                nominee.name if nominee else None,
                document.name if document else None,
                stored.sha256,
                FileKind(stored.kind),
            ),
        )
        for unit, nominee, document, upload, stored in uploads
    ]


def handlers() -> list[object]:
    """The ZIP button of /duyet."""
    return [route(PREFIX, Review.ZIP, send_zip)]

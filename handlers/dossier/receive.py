"""A file sent in a dossier flow, the Telegram side: downloaded (recorded first, so that a crash
mid-download is told to its sender), judged (storage.intake), kept, or refused in one line.
The rules and the keeping are storage.intake's."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from telegram import Document, Message
from telegram.error import BadRequest

from handlers.runtime import BotContext, Runtime
from handlers.slots import outside_slot
from messages import render
from storage.downloads import begin_download, end_download
from storage.downloads import tell_lost_downloads as lost_downloads
from storage.files import FileKind, store_blob
from storage.intake import Refusal, judge, keep_upload, too_big
from storage.members import Membership
from storage.models import RequiredDocument, Upload

log = logging.getLogger(__name__)

ACCEPTED = ", ".join(kind.value.upper() for kind in FileKind)
# Longer than any download takes (20 MB, or 2000 MB from a local Bot API server): a row of
# another instance this old was cut off by a crash.
DOWNLOAD_LEASE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Received:
    """A file accepted and stored, not yet placed in a dossier slot."""

    upload: Upload
    kind: FileKind


async def receive(
    message: Message,
    context: BotContext,
    member: Membership,
    document_asked: RequiredDocument | None = None,
) -> Received | None:
    """Check and keep the document of this message; on a refusal, answer and return None.

    With `document_asked`, a file of a type that document does not take (its `formats`) is
    refused before anything is stored. The download is recorded before it starts, so that a
    crash in the middle is told to the sender after the restart (tell_lost_downloads)."""
    document: Document | None = message.document
    if document is None:
        await message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))
        return None
    if too_big(document.file_size, context.rt.max_file_bytes):
        await _refuse(message, context, Refusal.TOO_BIG, document_asked)
        return None
    async with context.rt.db.write() as session:  # its own commit, before any download
        pending = await begin_download(
            session,
            chat_id=message.chat_id,
            telegram_user_id=member.telegram_user_id,
            file_name=_name(document),
            telegram_file_id=document.file_id,
            now=context.rt.now(),
        )
    try:
        received = await _receive(message, context, member, document, document_asked, pending)
    except Exception:
        # The error handler answers the sender now; a crash (or a cancelled task at
        # shutdown) leaves the row, and the sender is told after the restart.
        await _forget(context, pending)
        raise
    if received is None:
        await _forget(context, pending)
    return received


async def _receive(
    message: Message,
    context: BotContext,
    member: Membership,
    document: Document,
    document_asked: RequiredDocument | None,
    pending: int,
) -> Received | None:
    data = await _download(message, context, document, document_asked)
    if data is None:
        return None
    # Parsing a whole file takes a while for a large one: not on the loop other chats share.
    kind, refusal = await asyncio.to_thread(judge, data, context.rt.max_file_bytes, document_asked)
    if refusal is not None or kind is None:
        await _refuse(message, context, refusal or Refusal.TYPE, document_asked, kind)
        return None
    return Received(await _keep(context, member, document, data, kind, pending), kind)


def _name(document: Document) -> str:
    return document.file_name or "tep"


async def _forget(context: BotContext, pending: int) -> None:
    async with context.rt.db.write() as session:
        await end_download(session, pending)


async def _keep(
    context: BotContext,
    member: Membership,
    document: Document,
    data: bytes,
    kind: FileKind,
    pending: int,
) -> Upload:
    """Store the file's bytes on disk, then the unit's upload of it (not yet placed), the
    download's record gone in the same transaction."""
    rt = context.rt
    blob = await asyncio.to_thread(store_blob, rt.files_dir, data, kind)
    async with rt.db.write() as session:
        await end_download(session, pending)
        return await keep_upload(
            session,
            blob,
            unit_id=member.unit_id,
            name=document.file_name or f"tep.{kind.value}",
            telegram_file_id=document.file_id,
            by=member.telegram_user_id,
            now=rt.now(),
        )


async def _download(
    message: Message,
    context: BotContext,
    document: Document,
    document_asked: RequiredDocument | None,
) -> bytes | None:
    """The file's bytes; None, the sender told, when the Bot API will not give it."""
    try:
        # However slow the network, the wait holds no slot another chat needs (PRODUCT §8).
        async with outside_slot():
            file = await document.get_file()
            if context.bot.local_mode and file.file_path and Path(file.file_path).is_absolute():
                # A local Bot API server's file on this disk (BOT_API_LOCAL), up to 2000 MB:
                # read off the loop, which every other chat shares.
                return await asyncio.to_thread(Path(file.file_path).read_bytes)
            return bytes(await file.download_as_bytearray())
    except BadRequest:  # "file is too big" and the like, from the Bot API itself
        await _refuse(message, context, Refusal.TOO_BIG, document_asked)
        return None


async def tell_lost_downloads(rt: Runtime, *, at_start: bool) -> int:
    """Tell the sender of every download a crash cut off to send the file again (through the
    outbox); how many. At start on SQLite (one instance by design) every row left is lost;
    otherwise a row is lost once older than any download takes, since another instance may
    still be at it."""
    now = rt.now()
    before = None if at_start and rt.db.is_sqlite else now - DOWNLOAD_LEASE

    def notice(name: str, at: datetime) -> str:
        return render("push/download_lost", name=name, at=at.astimezone(rt.tz))

    async with rt.db.write() as session:
        told = await lost_downloads(session, before=before, now=now, notice=notice)
    if told:
        log.warning("%s downloads were cut off by a crash: their senders are told", told)
        rt.poke()
    return told


async def _refuse(
    message: Message,
    context: BotContext,
    refusal: Refusal,
    document_asked: RequiredDocument | None,
    kind: FileKind | None = None,
) -> None:
    """Say in one line why the file is not kept."""
    if refusal is Refusal.TOO_BIG:
        limit_mb = context.rt.max_file_bytes // (1024 * 1024)
        await message.reply_text(render("dossier/too_big", limit_mb=limit_mb))
    elif refusal is Refusal.TYPE:
        await message.reply_text(render("dossier/refused_type", accepted=ACCEPTED))
    elif refusal is Refusal.MACRO:
        await message.reply_text(render("dossier/refused_macro"))
    else:
        await message.reply_text(
            render(
                "dossier/refused_format",
                document=document_asked,
                kind=kind.value if kind else None,
                name=None,
                kept=False,
            )
        )

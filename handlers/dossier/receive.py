"""A file sent in a dossier flow, the Telegram side: downloaded, judged (storage.intake),
kept, or refused in one line. The rules and the keeping are storage.intake's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import Document, Message
from telegram.error import BadRequest

from handlers.runtime import BotContext
from messages import render
from storage.files import FileKind, store_blob
from storage.intake import Refusal, judge, keep_upload, too_big
from storage.members import Membership
from storage.models import RequiredDocument, Upload

ACCEPTED = ", ".join(kind.value.upper() for kind in FileKind)


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
    refused before anything is stored."""
    document: Document | None = message.document
    if document is None:
        await message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))
        return None
    data = await _download(message, context, document, document_asked)
    if data is None:
        return None
    # Parsing a whole file takes a while for a large one: not on the loop other chats share.
    kind, refusal = await asyncio.to_thread(judge, data, context.rt.max_file_bytes, document_asked)
    if refusal is not None or kind is None:
        await _refuse(message, context, refusal or Refusal.TYPE, document_asked, kind)
        return None
    return Received(await _keep(context, member, document, data, kind), kind)


async def _keep(
    context: BotContext, member: Membership, document: Document, data: bytes, kind: FileKind
) -> Upload:
    """Store the file's bytes on disk, then the unit's upload of it (not yet placed)."""
    rt = context.rt
    blob = await asyncio.to_thread(store_blob, rt.files_dir, data, kind)
    async with rt.db.write() as session:
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
    """The file's bytes; None, the sender told, when it is over the size limit."""
    if too_big(document.file_size, context.rt.max_file_bytes):
        await _refuse(message, context, Refusal.TOO_BIG, document_asked)
        return None
    try:
        return bytes(await (await document.get_file()).download_as_bytearray())
    except BadRequest:  # "file is too big" and the like, from the Bot API itself
        await _refuse(message, context, Refusal.TOO_BIG, document_asked)
        return None


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

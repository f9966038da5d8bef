"""Receiving a file from a unit: size, type by content, stored once, or a short refusal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from telegram import Document, Message
from telegram.error import BadRequest

from handlers.runtime import BotContext
from messages import render
from storage.dossiers import stored_file_for
from storage.files import FileKind, sniff, store_blob
from storage.members import Membership
from storage.models import RequiredDocument, Upload
from storage.requirements import accepts

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
    rt = context.rt
    if document is None:
        await message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))
        return None
    limit_mb = rt.max_file_bytes // (1024 * 1024)
    if document.file_size is not None and document.file_size > rt.max_file_bytes:
        await message.reply_text(render("dossier/too_big", limit_mb=limit_mb))
        return None
    try:
        data = bytes(await (await document.get_file()).download_as_bytearray())
    except BadRequest:  # "file is too big" and the like, from the Bot API itself
        await message.reply_text(render("dossier/too_big", limit_mb=limit_mb))
        return None
    if len(data) > rt.max_file_bytes:
        await message.reply_text(render("dossier/too_big", limit_mb=limit_mb))
        return None
    kind = sniff(data)
    if kind is None:
        await message.reply_text(render("dossier/refused_type", accepted=ACCEPTED))
        return None
    if document_asked is not None and not accepts(document_asked, kind.value):
        await message.reply_text(
            render(
                "dossier/refused_format",
                document=document_asked,
                kind=kind.value,
                name=None,
                kept=False,
            )
        )
        return None
    blob = await asyncio.to_thread(store_blob, rt.files_dir, data, kind)
    async with rt.db.write() as session:
        stored = await stored_file_for(
            session,
            sha256=blob.sha256,
            size=blob.size,
            kind=kind.value,
            path=blob.relative_path,
            now=rt.now(),
        )
        upload = Upload(
            unit_id=member.unit_id,
            campaign_id=None,
            stored_file_id=stored.id,
            original_name=(document.file_name or f"tep.{kind.value}")[:255],
            telegram_file_id=document.file_id,
            uploaded_by=member.telegram_user_id,
            uploaded_at=rt.now(),
        )
        session.add(upload)
        await session.flush()
        session.expunge(upload)
    return Received(upload, kind)

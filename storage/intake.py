"""A file a unit sends: the rules it must meet (its size, its type judged by content, the
formats the document asked for takes) and keeping it, content once, as an upload not placed
in any dossier slot yet."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.files import FileKind, Refused, StoredBlob, check
from storage.models import RequiredDocument, Upload
from storage.requirements import accepts
from storage.uploads import stored_file_for


class Refusal(enum.StrEnum):
    """Why a file is not kept."""

    TOO_BIG = "too_big"
    TYPE = "type"  # not a type units may send at all, or not whole as the type it claims
    MACRO = "macro"  # an Office file with macros or ActiveX controls
    FORMAT = "format"  # a type the document asked for does not take


def too_big(size: int | None, limit: int) -> bool:
    """Whether a file of this announced size (None: not announced) is over the limit."""
    return size is not None and size > limit


def judge(
    data: bytes, limit: int, document_asked: RequiredDocument | None
) -> tuple[FileKind | None, Refusal | None]:
    """The kind of the file's content (None: no type units may send) and why the file is
    refused (None: it is kept); with `document_asked`, a type that document does not take
    (its `formats`) is refused before anything is kept."""
    if too_big(len(data), limit):
        return None, Refusal.TOO_BIG
    checked = check(data)
    kind = checked.kind
    if kind is None:
        return None, Refusal.MACRO if checked.refused is Refused.MACRO else Refusal.TYPE
    if document_asked is not None and not accepts(document_asked, kind.value):
        return kind, Refusal.FORMAT
    return kind, None


async def keep_upload(
    session: AsyncSession,
    blob: StoredBlob,
    *,
    unit_id: int,
    name: str,
    telegram_file_id: str,
    by: int,
    now: datetime,
) -> Upload:
    """The unit's upload of a blob already in the store, not placed yet; detached from the
    session, so that it is read after the transaction."""
    stored = await stored_file_for(
        session,
        sha256=blob.sha256,
        size=blob.size,
        kind=blob.kind.value,
        path=blob.relative_path,
        now=now,
    )
    upload = Upload(
        unit_id=unit_id,
        campaign_id=None,
        stored_file_id=stored.id,
        original_name=name[:255],
        telegram_file_id=telegram_file_id,
        uploaded_by=by,
        uploaded_at=now,
    )
    session.add(upload)
    await session.flush()
    session.expunge(upload)
    return upload

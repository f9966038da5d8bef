"""Uploads: the stored content behind them, the versions of each slot, placing a new file."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.audit import record_upload
from storage.models import Nominee, StoredFile, Upload
from storage.reviews import resubmitted


async def stored_file_for(
    session: AsyncSession, *, sha256: str, size: int, kind: str, path: str, now: datetime
) -> StoredFile:
    """The row of this content, created on first sight (content is kept once). Two units
    sending the same content at once (PostgreSQL): the second finds the first's row."""
    query = select(StoredFile).where(StoredFile.sha256 == sha256)
    found = await session.scalar(query)
    if found is not None:
        return found
    created = StoredFile(sha256=sha256, size=size, kind=kind, path=path, created_at=now)
    try:
        async with session.begin_nested():
            session.add(created)
    except IntegrityError:
        return (await session.scalars(query)).one()
    return created


def _slot(
    campaign_id: int | None, unit_id: int, nominee_id: int | None, document_id: int | None
) -> list[object]:
    return [
        Upload.campaign_id == campaign_id
        if campaign_id is not None
        else Upload.campaign_id.is_(None),
        Upload.unit_id == unit_id,
        Upload.nominee_id == nominee_id if nominee_id is not None else Upload.nominee_id.is_(None),
        Upload.document_id == document_id
        if document_id is not None
        else Upload.document_id.is_(None),
    ]


async def latest_upload(
    session: AsyncSession,
    campaign_id: int,
    unit_id: int,
    nominee_id: int | None,
    document_id: int | None,
) -> Upload | None:
    """The newest version in a slot (campaign, unit, nominee or unit-level, document)."""
    return await session.scalar(
        select(Upload)
        .where(*_slot(campaign_id, unit_id, nominee_id, document_id))  # type: ignore[arg-type]
        .order_by(Upload.uploaded_at.desc(), Upload.id.desc())
        .limit(1)
    )


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an upload landed: the row, which version it is, and a same-content duplicate."""

    upload: Upload
    version: int
    same_as: Upload | None
    reopened: tuple[Nominee, ...] = ()  # approved dossiers this file sent back to review


async def place(
    session: AsyncSession,
    upload: Upload,
    *,
    campaign_id: int,
    nominee_id: int | None,
    document_id: int | None,
    now: datetime,
) -> Placed:
    """Put an upload in its slot, in the dossier's history; the same content as the newest
    version is not kept twice (nor recorded: nothing changed)."""
    newest = await latest_upload(session, campaign_id, upload.unit_id, nominee_id, document_id)
    if (
        newest is not None
        and newest.id != upload.id
        and newest.stored_file_id == upload.stored_file_id
    ):
        if upload.id is not None:
            await session.delete(upload)
        await session.flush()
        return Placed(newest, await _versions(session, newest), newest)
    upload.campaign_id, upload.nominee_id, upload.document_id = campaign_id, nominee_id, document_id
    upload.uploaded_at = now
    if upload.id is None:
        session.add(upload)
    await session.flush()
    reopened = await resubmitted(session, campaign_id, upload.unit_id, nominee_id)
    version = await _versions(session, upload)
    await record_upload(session, upload, version=version)  # the audit trail, same transaction
    return Placed(upload, version, None, tuple(reopened))


async def _versions(session: AsyncSession, upload: Upload) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Upload)
        .where(*_slot(upload.campaign_id, upload.unit_id, upload.nominee_id, upload.document_id))  # type: ignore[arg-type]
    )
    return int(count or 0)


async def unplaced_upload(session: AsyncSession, upload_id: int, unit_id: int) -> Upload | None:
    """A file of this unit sent outside any flow and not placed yet, with its stored file."""
    return await session.scalar(
        select(Upload)
        .options(joinedload(Upload.stored_file))
        .where(Upload.id == upload_id, Upload.unit_id == unit_id, Upload.campaign_id.is_(None))
    )


async def stored_files_of(
    session: AsyncSession, uploads: Sequence[Upload]
) -> dict[int, StoredFile]:
    """The stored content behind each of these uploads, by stored file id."""
    ids = {u.stored_file_id for u in uploads}
    if not ids:
        return {}
    found = await session.scalars(select(StoredFile).where(StoredFile.id.in_(ids)))
    return {s.id: s for s in found}

"""The audit trail of dossiers (PRODUCT §11): every change with who and when, written in the
transaction of the change; and the access log, who was sent which of a dossier's files.

Nothing here ever records how a council member voted: the ballot is secret."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from storage.models import (
    Campaign,
    DossierEvent,
    DossierEventRow,
    FileRead,
    Member,
    Nominee,
    ReadHow,
    RequiredDocument,
    Unit,
    Upload,
)

__all__ = [
    "HISTORY_SHOWN",
    "READS_SHOWN",
    "DossierEvent",
    "DossierLog",
    "HistoryEntry",
    "ReadHow",
    "Reading",
    "actor_name",
    "dossier_history",
    "dossier_log",
    "dossier_reads",
    "record_event",
    "record_nominee_event",
    "record_read",
    "record_reads",
    "record_upload",
]

HISTORY_SHOWN = 200  # the newest changes of a dossier read at most
READS_SHOWN = 500  # the newest file reads of a dossier read at most (a ZIP is a row per file)
_DETAIL_TEXT = 1000  # a detail's text value kept at most (a review note is at most this)


async def actor_name(session: AsyncSession, telegram_user_id: int | None) -> str:
    """The name of the member with this Telegram id as it is now ("" for nobody known)."""
    if telegram_user_id is None:
        return ""
    name = await session.scalar(
        select(Member.full_name).where(Member.telegram_user_id == telegram_user_id)
    )
    return name or ""


def _plain(detail: Mapping[str, object] | None) -> dict[str, object] | None:
    """The detail as JSON keeps it: plain values, long texts cut, a datetime in ISO form."""
    if not detail:
        return None
    out: dict[str, object] = {}
    for key, value in detail.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, str):
            value = value[:_DETAIL_TEXT]
        elif value is not None and not isinstance(value, bool | int | float):
            value = str(value)[:_DETAIL_TEXT]
        out[str(key)] = value
    return out


async def record_event(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    nominee_id: int | None,
    event: DossierEvent,
    actor_id: int | None,
    actor_name: str,
    at: datetime,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Add one change to a dossier's history, in the caller's transaction (nominee None: a
    document of the unit's own, which every dossier of the unit holds)."""
    session.add(
        DossierEventRow(
            campaign_id=campaign_id,
            unit_id=unit_id,
            nominee_id=nominee_id,
            event=event,
            actor_id=actor_id,
            actor_name=actor_name[:300],
            at=at,
            detail=_plain(detail),
        )
    )
    await session.flush()


async def record_nominee_event(
    session: AsyncSession,
    nominee: Nominee,
    event: DossierEvent,
    *,
    by: int | None,
    at: datetime,
    detail: Mapping[str, object] | None = None,
) -> None:
    """`record_event` for one nominee's dossier, by the member of this Telegram id (named as
    the member is named now)."""
    await record_event(
        session,
        campaign_id=nominee.campaign_id,
        unit_id=nominee.unit_id,
        nominee_id=nominee.id,
        event=event,
        actor_id=by,
        actor_name=await actor_name(session, by),
        at=at,
        detail=detail,
    )


async def record_upload(session: AsyncSession, upload: Upload, *, version: int) -> None:
    """A placed upload in its dossier's history: a document's first file, or a new version."""
    assert upload.campaign_id is not None
    document = (
        await session.get(RequiredDocument, upload.document_id) if upload.document_id else None
    )
    await record_event(
        session,
        campaign_id=upload.campaign_id,
        unit_id=upload.unit_id,
        nominee_id=upload.nominee_id,
        event=DossierEvent.UPLOADED if version <= 1 else DossierEvent.REPLACED,
        actor_id=upload.uploaded_by,
        actor_name=await actor_name(session, upload.uploaded_by),
        at=upload.uploaded_at,
        detail={
            "file": upload.original_name,
            "version": version,
            "document": document.name if document else None,
            "upload_id": upload.id,
        },
    )


async def record_reads(
    session: AsyncSession,
    uploads: Iterable[Upload],
    *,
    reader_id: int | None,
    reader_name: str,
    at: datetime,
    how: ReadHow,
) -> int:
    """Log that this person was sent these files (one row each), in the caller's transaction;
    how many were logged."""
    rows = [
        {
            "upload_id": u.id,
            "campaign_id": u.campaign_id,
            "unit_id": u.unit_id,
            "nominee_id": u.nominee_id,
            "how": how,
            "reader_id": reader_id,
            "reader_name": reader_name[:300],
            "at": at,
        }
        for u in uploads
    ]
    if rows:
        await session.execute(insert(FileRead), rows)
    return len(rows)


async def record_read(
    session: AsyncSession,
    *,
    upload: Upload,
    reader_id: int | None,
    reader_name: str,
    at: datetime,
    how: ReadHow,
) -> None:
    """Log that this person was sent this one file, in the caller's transaction."""
    await record_reads(
        session, [upload], reader_id=reader_id, reader_name=reader_name, at=at, how=how
    )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of a dossier as the office reads it."""

    event: DossierEvent
    actor_id: int | None
    actor_name: str
    at: datetime
    unit_level: bool  # a document of the unit's own, not of this nominee alone
    detail: Mapping[str, object] = field(default_factory=dict)


def _of_dossier(
    nominee: Nominee, rows: type[DossierEventRow] | type[FileRead]
) -> ColumnElement[bool]:
    """Rows of the nominee's own, and the unit's own of the same campaign (as current_files)."""
    return or_(
        rows.nominee_id == nominee.id,
        rows.nominee_id.is_(None)
        & (rows.campaign_id == nominee.campaign_id)
        & (rows.unit_id == nominee.unit_id),
    )


async def dossier_history(
    session: AsyncSession, nominee_id: int, *, limit: int = HISTORY_SHOWN
) -> list[HistoryEntry]:
    """The changes of a nominee's dossier, the unit's own documents included, newest first,
    at most `limit` (nothing for an unknown nominee)."""
    nominee = await session.get(Nominee, nominee_id)
    if nominee is None:
        return []
    rows = await session.scalars(
        select(DossierEventRow)
        .where(_of_dossier(nominee, DossierEventRow))
        .order_by(DossierEventRow.at.desc(), DossierEventRow.id.desc())
        .limit(limit)
    )
    return [
        HistoryEntry(
            r.event, r.actor_id, r.actor_name, r.at, r.nominee_id is None, dict(r.detail or {})
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Reading:
    """Files of a dossier one person was sent at one moment, one way (a ZIP: every file of
    the dossier it held)."""

    how: ReadHow
    reader_id: int | None
    reader_name: str
    at: datetime
    files: tuple[str, ...]  # the names the unit sent them under


async def dossier_reads(
    session: AsyncSession, nominee_id: int, *, limit: int = READS_SHOWN
) -> list[Reading]:
    """Who was sent the files of a nominee's dossier (the unit's own documents included), when
    and how, newest first; from at most the `limit` newest rows."""
    nominee = await session.get(Nominee, nominee_id)
    return (await _reads(session, nominee, limit))[0] if nominee is not None else []


async def _reads(session: AsyncSession, nominee: Nominee, limit: int) -> tuple[list[Reading], bool]:
    """The readings of the dossier from its `limit` newest rows, and whether the bound cut."""
    rows = list(
        await session.execute(
            select(FileRead, Upload.original_name)
            .join(Upload, Upload.id == FileRead.upload_id)
            .where(_of_dossier(nominee, FileRead))
            .order_by(FileRead.at.desc(), FileRead.id)
            .limit(limit)
        )
    )
    return _grouped([(read, name) for read, name in rows]), len(rows) >= limit


def _grouped(rows: Sequence[tuple[FileRead, str]]) -> list[Reading]:
    """Consecutive rows of one person, moment and way as one reading (their order kept)."""
    readings: list[Reading] = []
    for read, name in rows:
        last = readings[-1] if readings else None
        if last and (last.how, last.reader_id, last.at) == (read.how, read.reader_id, read.at):
            readings[-1] = Reading(
                last.how, last.reader_id, last.reader_name, last.at, (*last.files, name)
            )
        else:
            readings.append(Reading(read.how, read.reader_id, read.reader_name, read.at, (name,)))
    return readings


@dataclass(frozen=True, slots=True)
class DossierLog:
    """What the office reads of one dossier: whose it is, its history, its access log."""

    nominee_name: str
    unit_name: str
    history: list[HistoryEntry]
    reads: list[Reading]
    reads_bounded: bool  # the access log is read from its READS_SHOWN newest rows only


async def dossier_log(
    session: AsyncSession,
    nominee_id: int,
    org_id: int,
    *,
    history: bool = True,
    reads: bool = True,
) -> DossierLog | None:
    """A dossier of the organisation's campaigns with its history and (or) its access log, as
    asked; None when the nominee is not the organisation's (or does not exist)."""
    found = (
        await session.execute(
            select(Nominee, Unit.name)
            .join(Campaign, Campaign.id == Nominee.campaign_id)
            .join(Unit, Unit.id == Nominee.unit_id)
            .where(Nominee.id == nominee_id, Campaign.organization_id == org_id)
        )
    ).first()
    if found is None:
        return None
    nominee, unit_name = found
    readings, bounded = await _reads(session, nominee, READS_SHOWN) if reads else ([], False)
    return DossierLog(
        nominee.name,
        unit_name,
        await dossier_history(session, nominee.id) if history else [],
        readings,
        bounded,
    )

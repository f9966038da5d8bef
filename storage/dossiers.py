"""Dossiers: nominees, uploaded versions of required documents, their status and review."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import participating_units
from storage.models import (
    Award,
    Campaign,
    DocumentScope,
    Nominee,
    RequiredDocument,
    ReviewState,
    StoredFile,
    Unit,
    Upload,
)
from storage.registrations import registered_unit_ids


class Shown(enum.StrEnum):
    """The state of a nominee's dossier as the unit reads it in /hoso."""

    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """A required document and its newest upload, if any."""

    document: RequiredDocument
    upload: Upload | None
    versions: int


@dataclass(frozen=True, slots=True)
class NomineeStatus:
    """A nominee with its documents and the state shown to the unit."""

    nominee: Nominee
    award: Award
    documents: tuple[DocumentStatus, ...]
    shown: Shown

    @property
    def missing(self) -> int:
        """How many of the nominee's own documents are not sent yet."""
        return sum(1 for d in self.documents if d.upload is None)


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """A unit's dossier for one campaign."""

    campaign: Campaign
    unit_documents: tuple[DocumentStatus, ...]
    nominees: tuple[NomineeStatus, ...]

    @property
    def missing(self) -> int:
        """Documents still to send: the unit's own and every nominee's."""
        own = sum(1 for d in self.unit_documents if d.upload is None)
        return own + sum(n.missing for n in self.nominees)


async def active_documents(session: AsyncSession, campaign_id: int) -> list[RequiredDocument]:
    """The campaign's current required documents, in file order."""
    rows = await session.scalars(
        select(RequiredDocument)
        .where(RequiredDocument.campaign_id == campaign_id, RequiredDocument.active.is_(True))
        .order_by(RequiredDocument.position)
    )
    return list(rows)


async def active_awards(session: AsyncSession, campaign_id: int) -> list[Award]:
    """The campaign's current award forms, in file order."""
    rows = await session.scalars(
        select(Award)
        .where(Award.campaign_id == campaign_id, Award.active.is_(True))
        .order_by(Award.position)
    )
    return list(rows)


async def award_usage(session: AsyncSession, campaign_id: int) -> dict[int, int]:
    """How many nominees are proposed for each award form, over all units."""
    rows = await session.execute(
        select(Nominee.award_id, func.count())
        .where(Nominee.campaign_id == campaign_id)
        .group_by(Nominee.award_id)
    )
    return {award_id: n for award_id, n in rows}


async def nominees_of_unit(session: AsyncSession, campaign_id: int, unit_id: int) -> list[Nominee]:
    """The unit's nominees in the campaign, in the order they were added."""
    rows = await session.scalars(
        select(Nominee)
        .where(Nominee.campaign_id == campaign_id, Nominee.unit_id == unit_id)
        .order_by(Nominee.id)
    )
    return list(rows)


async def nominee_for_unit(session: AsyncSession, nominee_id: int, unit_id: int) -> Nominee | None:
    """The nominee if it belongs to this unit, else None (never trust a button)."""
    return await session.scalar(
        select(Nominee).where(Nominee.id == nominee_id, Nominee.unit_id == unit_id)
    )


async def add_nominee(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    name: str,
    award: Award,
    by: int,
    now: datetime,
) -> Nominee | None:
    """Propose a nominee for an award form; None if the unit already proposed that name."""
    existing = await session.scalar(
        select(Nominee).where(
            Nominee.campaign_id == campaign_id,
            Nominee.unit_id == unit_id,
            Nominee.target == award.target,
            func.lower(Nominee.name) == name.lower(),
        )
    )
    if existing is not None:
        return None
    nominee = Nominee(
        campaign_id=campaign_id,
        unit_id=unit_id,
        name=name,
        target=award.target,
        award_id=award.id,
        created_by=by,
        created_at=now,
        review_state=ReviewState.NONE,
    )
    session.add(nominee)
    await session.flush()
    return nominee


async def stored_file_for(
    session: AsyncSession, *, sha256: str, size: int, kind: str, path: str, now: datetime
) -> StoredFile:
    """The row of this content, created on first sight (content is kept once)."""
    found = await session.scalar(select(StoredFile).where(StoredFile.sha256 == sha256))
    if found is None:
        found = StoredFile(sha256=sha256, size=size, kind=kind, path=path, created_at=now)
        session.add(found)
        await session.flush()
    return found


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


async def place(
    session: AsyncSession,
    upload: Upload,
    *,
    campaign_id: int,
    nominee_id: int | None,
    document_id: int | None,
    now: datetime,
) -> Placed:
    """Put an upload in its slot; the same content as the newest version is not kept twice."""
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
    await _resubmitted(session, campaign_id, upload.unit_id, nominee_id)
    return Placed(upload, await _versions(session, upload), None)


async def _versions(session: AsyncSession, upload: Upload) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Upload)
        .where(*_slot(upload.campaign_id, upload.unit_id, upload.nominee_id, upload.document_id))  # type: ignore[arg-type]
    )
    return int(count or 0)


async def _resubmitted(
    session: AsyncSession, campaign_id: int, unit_id: int, nominee_id: int | None
) -> None:
    """A returned dossier that receives a new file goes back to the review queue."""
    query = select(Nominee).where(
        Nominee.campaign_id == campaign_id,
        Nominee.unit_id == unit_id,
        Nominee.review_state == ReviewState.RETURNED,
    )
    if nominee_id is not None:
        query = query.where(Nominee.id == nominee_id)
    for nominee in await session.scalars(query):
        nominee.review_state = ReviewState.NONE


async def unplaced_upload(session: AsyncSession, upload_id: int, unit_id: int) -> Upload | None:
    """A file of this unit sent outside any flow and not placed yet."""
    return await session.scalar(
        select(Upload).where(
            Upload.id == upload_id, Upload.unit_id == unit_id, Upload.campaign_id.is_(None)
        )
    )


async def dossier_status(session: AsyncSession, campaign: Campaign, unit_id: int) -> DossierStatus:
    """Every required document of the unit and its nominees, with the newest upload of each."""
    return (await dossier_statuses(session, [campaign], unit_id))[0]


# /hoso's four queries, built once; `ids` are the campaigns shown.
_IDS: BindParameter[int] = bindparam("ids", expanding=True)
_DOCUMENTS_OF = (
    select(RequiredDocument)
    .where(RequiredDocument.campaign_id.in_(_IDS), RequiredDocument.active.is_(True))
    .order_by(RequiredDocument.position)
)
_UPLOADS_OF_UNIT = (
    select(Upload)
    .where(Upload.campaign_id.in_(_IDS), Upload.unit_id == bindparam("unit_id"))
    .order_by(Upload.uploaded_at, Upload.id)
)
_AWARDS_OF = select(Award).where(Award.campaign_id.in_(_IDS))
_NOMINEES_OF_UNIT = (
    select(Nominee)
    .where(Nominee.campaign_id.in_(_IDS), Nominee.unit_id == bindparam("unit_id"))
    .order_by(Nominee.id)
)


async def dossier_statuses(
    session: AsyncSession, campaigns: Sequence[Campaign], unit_id: int
) -> list[DossierStatus]:
    """`dossier_status` of several campaigns for one unit, in four queries in all (/hoso)."""
    if not campaigns:
        return []
    ids = [c.id for c in campaigns]
    of_unit = {"ids": ids, "unit_id": unit_id}
    documents: dict[int, list[RequiredDocument]] = {i: [] for i in ids}
    for document in await session.scalars(_DOCUMENTS_OF, {"ids": ids}):
        documents[document.campaign_id].append(document)
    newest: dict[tuple[int, int | None, int | None], Upload] = {}
    counts: dict[tuple[int, int | None, int | None], int] = {}
    for upload in await session.scalars(_UPLOADS_OF_UNIT, of_unit):
        assert upload.campaign_id is not None
        key = (upload.campaign_id, upload.nominee_id, upload.document_id)
        newest[key] = upload
        counts[key] = counts.get(key, 0) + 1
    awards = {a.id: a for a in await session.scalars(_AWARDS_OF, {"ids": ids})}
    nominees: dict[int, list[Nominee]] = {i: [] for i in ids}
    for nominee in await session.scalars(_NOMINEES_OF_UNIT, of_unit):
        nominees[nominee.campaign_id].append(nominee)

    def status(
        campaign_id: int, nominee_id: int | None, scope: DocumentScope
    ) -> tuple[DocumentStatus, ...]:
        return tuple(
            DocumentStatus(
                d,
                newest.get((campaign_id, nominee_id, d.id)),
                counts.get((campaign_id, nominee_id, d.id), 0),
            )
            for d in documents[campaign_id]
            if d.per is scope
        )

    result = []
    for campaign in campaigns:
        unit_documents = status(campaign.id, None, DocumentScope.UNIT)
        shown = []
        for nominee in nominees[campaign.id]:
            docs = status(campaign.id, nominee.id, DocumentScope.NOMINEE)
            complete = all(d.upload for d in docs) and all(d.upload for d in unit_documents)
            shown.append(
                NomineeStatus(nominee, awards[nominee.award_id], docs, _shown(nominee, complete))
            )
        result.append(DossierStatus(campaign, unit_documents, tuple(shown)))
    return result


def _shown(nominee: Nominee, complete: bool) -> Shown:
    if nominee.review_state is ReviewState.APPROVED:
        return Shown.APPROVED
    if nominee.review_state is ReviewState.RETURNED:
        return Shown.RETURNED
    if not complete:
        return Shown.INCOMPLETE
    return Shown.IN_REVIEW if nominee.review_state is ReviewState.IN_REVIEW else Shown.COMPLETE


@dataclass(frozen=True, slots=True)
class QueueItem:
    """A complete dossier waiting for the office."""

    campaign: Campaign
    unit: Unit
    status: NomineeStatus


async def review_queue(session: AsyncSession, campaigns: Sequence[Campaign]) -> list[QueueItem]:
    """Complete dossiers not yet approved nor waiting for the unit, by campaign and unit."""
    queue = []
    for campaign in campaigns:
        unit_ids = sorted(
            set(
                await session.scalars(
                    select(Nominee.unit_id).where(
                        Nominee.campaign_id == campaign.id,
                        Nominee.review_state.in_([ReviewState.NONE, ReviewState.IN_REVIEW]),
                    )
                )
            )
        )
        for unit_id in unit_ids:
            unit = await session.get_one(Unit, unit_id)
            dossier = await dossier_status(session, campaign, unit_id)
            queue += [
                QueueItem(campaign, unit, n)
                for n in dossier.nominees
                if n.shown in (Shown.COMPLETE, Shown.IN_REVIEW)
            ]
    return queue


async def set_review(
    session: AsyncSession,
    nominee: Nominee,
    state: ReviewState,
    *,
    by: int,
    now: datetime,
    note: str | None = None,
) -> None:
    """Record the office's decision (or that it opened the dossier)."""
    nominee.review_state = state
    nominee.reviewed_by = by
    nominee.reviewed_at = now
    if state in (ReviewState.RETURNED, ReviewState.APPROVED):
        nominee.review_note = note
    await session.flush()


async def campaign_uploads(
    session: AsyncSession, campaign_id: int
) -> list[tuple[Unit, Nominee | None, RequiredDocument | None, Upload, StoredFile]]:
    """Every placed upload of the campaign with its unit, nominee, document and stored file."""
    rows = await session.execute(
        select(Upload, Unit, Nominee, RequiredDocument, StoredFile)
        .join(Unit, Unit.id == Upload.unit_id)
        .join(StoredFile, StoredFile.id == Upload.stored_file_id)
        .outerjoin(Nominee, Nominee.id == Upload.nominee_id)
        .outerjoin(RequiredDocument, RequiredDocument.id == Upload.document_id)
        .where(Upload.campaign_id == campaign_id)
        .order_by(Unit.code, Upload.nominee_id, Upload.uploaded_at)
    )
    return [
        (unit, nominee, document, upload, stored)
        for upload, unit, nominee, document, stored in rows
    ]


async def current_files(
    session: AsyncSession, nominee: Nominee
) -> list[tuple[RequiredDocument | None, Upload]]:
    """The newest version of each document of a nominee's dossier, the unit's own included."""
    uploads = list(
        await session.scalars(
            select(Upload)
            .where(
                Upload.campaign_id == nominee.campaign_id,
                Upload.unit_id == nominee.unit_id,
                (Upload.nominee_id == nominee.id) | Upload.nominee_id.is_(None),
            )
            .order_by(Upload.uploaded_at, Upload.id)
        )
    )
    documents = {d.id: d for d in await active_documents(session, nominee.campaign_id)}
    newest: dict[tuple[int | None, int | None], Upload] = {}
    for upload in uploads:
        if upload.document_id is None or upload.document_id in documents:
            newest[(upload.nominee_id, upload.document_id)] = upload
    return [
        (documents.get(u.document_id) if u.document_id else None, u)
        for u in sorted(newest.values(), key=lambda u: (u.nominee_id is not None, u.id))
    ]


async def nominee_by_id(
    session: AsyncSession, nominee_id: int, org_id: int | None = None
) -> Nominee | None:
    """A nominee of a campaign of the office's organisation (any, when None), or None."""
    query = select(Nominee).where(Nominee.id == nominee_id)
    if org_id is not None:
        query = query.join(Campaign, Campaign.id == Nominee.campaign_id).where(
            Campaign.organization_id == org_id
        )
    return await session.scalar(query)


async def units_with_complete_dossier(
    session: AsyncSession, campaign: Campaign, units: Sequence[Unit]
) -> set[int]:
    """Units that propose someone and miss no document (a unit proposing no one is not done).

    The same rule as `dossier_status(...).missing == 0`, decided for every unit at once from
    three small queries (the scheduler asks this of every campaign on every tick).
    """
    documents = await active_documents(session, campaign.id)
    unit_docs = {d.id for d in documents if d.per is DocumentScope.UNIT}
    nominee_docs = {d.id for d in documents if d.per is DocumentScope.NOMINEE}
    wanted = {u.id for u in units}
    nominees: dict[int, list[int]] = {}
    for nominee_id, unit_id in await session.execute(
        select(Nominee.id, Nominee.unit_id).where(Nominee.campaign_id == campaign.id)
    ):
        if unit_id in wanted:
            nominees.setdefault(unit_id, []).append(nominee_id)
    sent: set[tuple[int, int | None, int | None]] = set(
        (row.unit_id, row.nominee_id, row.document_id)
        for row in await session.execute(
            select(Upload.unit_id, Upload.nominee_id, Upload.document_id)
            .where(Upload.campaign_id == campaign.id, Upload.unit_id.in_(list(nominees)))
            .distinct()
        )
    )
    return {
        unit_id
        for unit_id, proposed in nominees.items()
        if all((unit_id, None, d) in sent for d in unit_docs)
        and all((unit_id, n, d) in sent for n in proposed for d in nominee_docs)
    }


async def missing_units(session: AsyncSession, campaign: Campaign) -> list[Unit]:
    """The campaign's units still missing something: a registration or a complete dossier."""
    units = await participating_units(session, campaign)
    done = {u.id for u in units}
    if campaign.registration_deadline is not None:
        done &= await registered_unit_ids(session, campaign.id)
    if campaign.dossier_deadline is not None:
        done &= await units_with_complete_dossier(session, campaign, units)
    return [u for u in units if u.id not in done]

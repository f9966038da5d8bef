"""Dossier status: what a unit and its nominees have sent of the required documents, and
which units are done (/hoso, the review queue, the scheduler's reminders)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import participating_units
from storage.models import Award, Campaign, Nominee, RequiredDocument, ReviewState, Unit, Upload
from storage.registrations import registered_unit_ids
from storage.requirements import counts, nominee_documents, required_ids, unit_documents
from storage.windows import has_dossier, has_registration


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
    documents: tuple[DocumentStatus, ...]  # the award's own documents, or the campaign's
    shown: Shown
    # Complete since the newest upload among its required documents; None while incomplete.
    complete_since: datetime | None = None

    @property
    def missing(self) -> int:
        """How many of the nominee's own required documents are not sent yet."""
        return _missing(self.documents)


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """A unit's dossier for one campaign."""

    campaign: Campaign
    unit_documents: tuple[DocumentStatus, ...]
    nominees: tuple[NomineeStatus, ...]

    @property
    def missing(self) -> int:
        """Documents still to send: the unit's own and every nominee's."""
        return _missing(self.unit_documents) + sum(n.missing for n in self.nominees)


def _missing(statuses: Sequence[DocumentStatus]) -> int:
    """Documents not sent yet, optional ones never counted."""
    return sum(1 for d in statuses if d.upload is None and counts(d.document))


async def active_documents(session: AsyncSession, campaign_id: int) -> list[RequiredDocument]:
    """The campaign's current required documents, in file order."""
    rows = await session.scalars(
        select(RequiredDocument)
        .where(RequiredDocument.campaign_id == campaign_id, RequiredDocument.active.is_(True))
        .order_by(RequiredDocument.position)
    )
    return list(rows)


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
    versions: dict[tuple[int, int | None, int | None], int] = {}
    for upload in await session.scalars(_UPLOADS_OF_UNIT, of_unit):
        assert upload.campaign_id is not None
        key = (upload.campaign_id, upload.nominee_id, upload.document_id)
        newest[key] = upload
        versions[key] = versions.get(key, 0) + 1
    awards = {a.id: a for a in await session.scalars(_AWARDS_OF, {"ids": ids})}
    nominees: dict[int, list[Nominee]] = {i: [] for i in ids}
    for nominee in await session.scalars(_NOMINEES_OF_UNIT, of_unit):
        nominees[nominee.campaign_id].append(nominee)

    def status(
        campaign_id: int, nominee_id: int | None, chosen: Sequence[RequiredDocument]
    ) -> tuple[DocumentStatus, ...]:
        return tuple(
            DocumentStatus(
                d,
                newest.get((campaign_id, nominee_id, d.id)),
                versions.get((campaign_id, nominee_id, d.id), 0),
            )
            for d in chosen
        )

    result = []
    for campaign in campaigns:
        own = status(campaign.id, None, unit_documents(documents[campaign.id]))
        shown = []
        for nominee in nominees[campaign.id]:
            award = awards[nominee.award_id]
            docs = status(campaign.id, nominee.id, nominee_documents(award, documents[campaign.id]))
            since = _complete_since(nominee, (*own, *docs))
            shown.append(
                NomineeStatus(nominee, award, docs, _shown(nominee, since is not None), since)
            )
        result.append(DossierStatus(campaign, own, tuple(shown)))
    return result


def _complete_since(nominee: Nominee, statuses: Sequence[DocumentStatus]) -> datetime | None:
    """When the last required document came (the nominee's creation if none is required);
    None while one is missing."""
    required = [s for s in statuses if counts(s.document)]
    if any(s.upload is None for s in required):
        return None
    return max((s.upload.uploaded_at for s in required if s.upload), default=nominee.created_at)


def _shown(nominee: Nominee, complete: bool) -> Shown:
    if nominee.review_state is ReviewState.APPROVED:
        return Shown.APPROVED
    if nominee.review_state is ReviewState.RETURNED:
        return Shown.RETURNED
    if not complete:
        return Shown.INCOMPLETE
    return Shown.IN_REVIEW if nominee.review_state is ReviewState.IN_REVIEW else Shown.COMPLETE


async def units_with_complete_dossier(
    session: AsyncSession, campaign: Campaign, units: Sequence[Unit]
) -> set[int]:
    """Units that propose someone and miss no document (a unit proposing no one is not done).

    The same rule as `dossier_status(...).missing == 0` (each nominee the documents of its
    award, the optional ones never wanted), decided for every unit at once from four small
    queries (the scheduler asks this of every campaign on every tick).
    """
    documents = await active_documents(session, campaign.id)
    unit_docs = required_ids(unit_documents(documents))
    wanted_of_award = {
        a.id: required_ids(nominee_documents(a, documents))
        for a in await session.scalars(_AWARDS_OF, {"ids": [campaign.id]})
    }
    wanted = {u.id for u in units}
    nominees: dict[int, list[tuple[int, int]]] = {}
    for nominee_id, unit_id, award_id in await session.execute(
        select(Nominee.id, Nominee.unit_id, Nominee.award_id).where(
            Nominee.campaign_id == campaign.id
        )
    ):
        if unit_id in wanted:
            nominees.setdefault(unit_id, []).append((nominee_id, award_id))
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
        and all((unit_id, n, d) in sent for n, award in proposed for d in wanted_of_award[award])
    }


async def missing_units(session: AsyncSession, campaign: Campaign) -> list[Unit]:
    """The campaign's units still missing something: a registration or a complete dossier."""
    units = await participating_units(session, campaign)
    done = {u.id for u in units}
    if has_registration(campaign):
        done &= await registered_unit_ids(session, campaign.id)
    if has_dossier(campaign):
        done &= await units_with_complete_dossier(session, campaign, units)
    return [u for u in units if u.id not in done]

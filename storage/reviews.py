"""The office's review: the queue of complete dossiers, decisions, and the files behind them;
a returned dossier that gets a new file comes back to the queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import all_campaigns
from storage.dossier_status import NomineeStatus, Shown, active_documents, dossier_status
from storage.models import (
    Campaign,
    Nominee,
    RequiredDocument,
    ReviewState,
    StoredFile,
    Unit,
    Upload,
)
from storage.office_scope import office_campaign
from storage.quotas import CampaignQuotas, quota_report
from storage.windows import under_review


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


async def resubmitted(
    session: AsyncSession, campaign_id: int, unit_id: int, nominee_id: int | None
) -> list[Nominee]:
    """A returned or approved dossier that receives a new file (its own, or one of the unit's
    documents) goes back to the review queue: what was appraised is no longer what it holds.
    Returns the approved ones reopened, of which the office must be told."""
    query = select(Nominee).where(
        Nominee.campaign_id == campaign_id,
        Nominee.unit_id == unit_id,
        Nominee.review_state.in_([ReviewState.RETURNED, ReviewState.APPROVED]),
    )
    if nominee_id is not None:
        query = query.where(Nominee.id == nominee_id)
    reopened = []
    for nominee in await session.scalars(query):
        if nominee.review_state is ReviewState.APPROVED:
            reopened.append(nominee)
        nominee.review_state = ReviewState.NONE
    return reopened


# A placed upload with its unit, nominee (None: the unit's own), document (None: another one)
# and stored file.
CampaignUpload = tuple[Unit, Nominee | None, RequiredDocument | None, Upload, StoredFile]


async def campaign_uploads(session: AsyncSession, campaign_id: int) -> list[CampaignUpload]:
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


@dataclass(frozen=True, slots=True)
class AwaitingReview:
    """A complete dossier the office has not decided on, and since when it is complete."""

    unit_code: str
    unit_name: str
    nominee: str
    complete_since: datetime


async def awaiting_review(session: AsyncSession, campaign: Campaign) -> list[AwaitingReview]:
    """The campaign's queue as the scheduler's review digest needs it: who, and since when."""
    return [
        AwaitingReview(
            item.unit.code, item.unit.name, item.status.nominee.name, item.status.complete_since
        )
        for item in await review_queue(session, [campaign])
        if item.status.complete_since is not None
    ]


@dataclass(frozen=True, slots=True)
class ReviewScreen:
    """What /duyet shows: the campaigns still under review, their queue and their quotas."""

    campaigns: list[Campaign]
    queue: list[QueueItem]
    quotas: list[CampaignQuotas]


async def review_screen(session: AsyncSession, org_id: int, today: date) -> ReviewScreen:
    """The organisation's campaigns under review with the dossiers awaiting the office and
    the proposals against the quotas."""
    campaigns = [c for c in await all_campaigns(session, org_id) if under_review(c, today)]
    queue = await review_queue(session, campaigns)
    return ReviewScreen(campaigns, queue, await quota_report(session, campaigns))


async def office_campaign_uploads(
    session: AsyncSession, campaign_id: int, org_id: int
) -> tuple[Campaign, list[CampaignUpload]] | None:
    """The organisation's campaign with every placed upload of it (as `campaign_uploads`), or
    None when the campaign is not the organisation's."""
    campaign = await office_campaign(session, campaign_id, org_id)
    if campaign is None:
        return None
    return campaign, await campaign_uploads(session, campaign.id)

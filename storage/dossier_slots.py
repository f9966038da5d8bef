"""A unit's dossier as the upload flows see it: the campaigns taking files, what a slot
(the unit's own documents, or one nominee's) asks for, proposing a nominee, placing a file."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import campaign_for_unit, launched_campaigns_of_unit
from storage.dossier_status import DocumentStatus, DossierStatus, dossier_status
from storage.models import Award, Campaign, RequiredDocument, Target, Upload
from storage.nominees import active_awards, nominee_for_unit
from storage.quotas import Proposal, propose
from storage.uploads import Placed, place, unplaced_upload
from storage.windows import dossier_open

# An award open to either ("any") asks which one the nominee is.
EITHER = (Target.TAP_THE, Target.CA_NHAN)


async def campaigns_taking_files(
    session: AsyncSession, unit_id: int, now: datetime, today: date
) -> list[Campaign]:
    """The launched campaigns of the unit that take dossier files on this (local) day."""
    campaigns = await launched_campaigns_of_unit(session, unit_id, now)
    return [c for c in campaigns if dossier_open(c, today)]


async def unit_dossier(
    session: AsyncSession,
    campaign_id: int,
    unit_id: int,
    now: datetime,
    open_on: date | None = None,
) -> DossierStatus | None:
    """The unit's dossier of a launched campaign it takes part in, else None (never trust a
    button); with `open_on`, None as well when the campaign takes no files that day."""
    campaign = await campaign_for_unit(session, campaign_id, unit_id, now)
    if campaign is None or (open_on is not None and not dossier_open(campaign, open_on)):
        return None
    return await dossier_status(session, campaign, unit_id)


def slot_documents(
    dossier: DossierStatus, nominee_id: int | None
) -> tuple[tuple[DocumentStatus, ...], str]:
    """The documents of a slot and its nominee's name ("" for the unit's own documents);
    nothing for a nominee not in the dossier."""
    if nominee_id is None:
        return dossier.unit_documents, ""
    for n in dossier.nominees:
        if n.nominee.id == nominee_id:
            return n.documents, n.nominee.name
    return (), ""


def has_nominee(dossier: DossierStatus, nominee_id: int) -> bool:
    """Whether the nominee is one of the dossier's."""
    return any(n.nominee.id == nominee_id for n in dossier.nominees)


def document_of(statuses: tuple[DocumentStatus, ...], document_id: int) -> RequiredDocument | None:
    """The document of these with this id, or None."""
    return next((s.document for s in statuses if s.document.id == document_id), None)


async def slot_document(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    nominee_id: int | None,
    document_id: int,
    now: datetime,
) -> RequiredDocument | None:
    """The document if the slot asks for it (the unit's own, or the nominee's award's)."""
    dossier = await unit_dossier(session, campaign_id, unit_id, now)
    statuses = slot_documents(dossier, nominee_id)[0] if dossier else ()
    return document_of(statuses, document_id)


def chosen_target(award: Award, chosen: str | None) -> Target | None:
    """What the nominee is: the award's target, or the one chosen for an award open to
    either (None while not chosen)."""
    if award.target is not Target.ANY:
        return award.target
    return Target(chosen) if chosen in EITHER else None


async def propose_nominee(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    award_id: int,
    chosen: str | None,
    name: str,
    by: int,
    now: datetime,
) -> Proposal | None:
    """Propose a nominee for a current award of the campaign (storage.quotas.propose); None
    when the award is gone or what the nominee is has not been chosen."""
    award = next((a for a in await active_awards(session, campaign_id) if a.id == award_id), None)
    target = chosen_target(award, chosen) if award is not None else None
    if award is None or target is None:
        return None
    return await propose(
        session,
        campaign_id=campaign_id,
        unit_id=unit_id,
        name=name,
        award=award,
        target=target,
        by=by,
        now=now,
    )


async def place_in_slot(
    session: AsyncSession,
    upload_id: int,
    *,
    campaign_id: int,
    unit_id: int,
    nominee_id: int | None,
    document_id: int | None,
    now: datetime,
    today: date,
) -> Placed | None:
    """Put a file of the unit not placed yet in a slot of a campaign taking files today;
    None when the file or the campaign is not (or no longer) the unit's to use."""
    campaign = await campaign_for_unit(session, campaign_id, unit_id, now)
    upload = await unplaced_upload(session, upload_id, unit_id)
    if campaign is None or upload is None or not dossier_open(campaign, today):
        return None
    # The whole chain, whatever the button said: the nominee is this unit's in this campaign,
    # the document one this campaign asks for.
    if nominee_id is not None:
        nominee = await nominee_for_unit(session, nominee_id, unit_id)
        if nominee is None or nominee.campaign_id != campaign.id:
            return None
    if document_id is not None:
        document = await session.get(RequiredDocument, document_id)
        if document is None or document.campaign_id != campaign.id or not document.active:
            return None
    return await place(
        session,
        upload,
        campaign_id=campaign.id,
        nominee_id=nominee_id,
        document_id=document_id,
        now=now,
    )


async def stray_and_dossier(
    session: AsyncSession,
    upload_id: int,
    campaign_id: int,
    *,
    unit_id: int,
    now: datetime,
    today: date,
) -> tuple[Upload, DossierStatus] | None:
    """A file of the unit sent outside the flow, not placed yet, with the unit's dossier of a
    campaign taking files today; None when either is not the unit's to use."""
    upload = await unplaced_upload(session, upload_id, unit_id)
    if upload is None:
        return None
    dossier = await unit_dossier(session, campaign_id, unit_id, now, open_on=today)
    return (upload, dossier) if dossier is not None else None

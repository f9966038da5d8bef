"""The office's review queue against its time limit: dossiers complete and not yet decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import participating_units
from storage.dossiers import Shown, dossier_status
from storage.models import Campaign


@dataclass(frozen=True, slots=True)
class AwaitingReview:
    """A complete dossier the office has not decided on, and since when it is complete."""

    unit_code: str
    unit_name: str
    nominee: str
    complete_since: datetime


async def awaiting_review(session: AsyncSession, campaign: Campaign) -> list[AwaitingReview]:
    """Every dossier of the campaign complete and not yet approved or returned; complete since
    its newest required upload (the unit's own papers included)."""
    found = []
    for unit in await participating_units(session, campaign):
        status = await dossier_status(session, campaign, unit.id)
        for nominee in status.nominees:
            if nominee.shown not in (Shown.COMPLETE, Shown.IN_REVIEW):
                continue
            times = [
                d.upload.uploaded_at
                for d in (*status.unit_documents, *nominee.documents)
                if d.upload is not None
            ]
            if times:
                found.append(AwaitingReview(unit.code, unit.name, nominee.nominee.name, max(times)))
    return found

"""A campaign's own steps as pushes name them: a step by its code, and who has marked which."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CampaignDeadline, DeadlineProgress


async def step_by_code(
    session: AsyncSession, campaign_id: int, code: str
) -> CampaignDeadline | None:
    """The campaign's step of this code, or None."""
    return await session.scalar(
        select(CampaignDeadline).where(
            CampaignDeadline.campaign_id == campaign_id, CampaignDeadline.code == code
        )
    )


async def units_done(session: AsyncSession, deadline_ids: Sequence[int]) -> dict[int, set[int]]:
    """deadline id -> the ids of the units that marked it done."""
    done: dict[int, set[int]] = {}
    rows = await session.execute(
        select(DeadlineProgress.deadline_id, DeadlineProgress.unit_id).where(
            DeadlineProgress.deadline_id.in_(list(deadline_ids))
        )
    )
    for deadline_id, unit_id in rows:
        done.setdefault(deadline_id, set()).add(unit_id)
    return done

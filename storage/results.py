"""Council results: a campaign's decision and the awards it grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Award, Campaign, CouncilResult, ResultItem, Unit


@dataclass(frozen=True, slots=True)
class ResultItemSpec:
    """One granted award, with ids already resolved."""

    unit_id: int
    nominee: str
    award_id: int


async def upsert_result(
    session: AsyncSession,
    campaign_id: int,
    decision: str,
    publish_at: datetime,
    items: list[ResultItemSpec],
) -> str:
    """Create or replace a campaign's results; returns "added", "updated" or "unchanged"."""
    result = await session.scalar(
        select(CouncilResult).where(CouncilResult.campaign_id == campaign_id)
    )
    wanted = [(i.unit_id, i.nominee, i.award_id) for i in items]
    if result is None:
        result = CouncilResult(campaign_id=campaign_id, decision=decision, publish_at=publish_at)
        session.add(result)
        outcome = "added"
    else:
        current = [
            (i.unit_id, i.nominee, i.award_id)
            for i in await session.scalars(
                select(ResultItem)
                .where(ResultItem.result_id == result.id)
                .order_by(ResultItem.position)
            )
        ]
        if (result.decision, result.publish_at, current) == (decision, publish_at, wanted):
            return "unchanged"
        result.decision, result.publish_at = decision, publish_at
        outcome = "updated"
    await session.flush()
    await session.execute(delete(ResultItem).where(ResultItem.result_id == result.id))
    session.add_all(
        ResultItem(result_id=result.id, unit_id=u, nominee=n, award_id=a, position=i)
        for i, (u, n, a) in enumerate(wanted)
    )
    await session.flush()
    return outcome


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """A published decision with its items, in plain values."""

    campaign: Campaign
    decision: str
    publish_at: datetime
    items: tuple[tuple[str, str, str], ...]  # (unit name, nominee, award name)


async def published_results(
    session: AsyncSession, now: datetime, unit_id: int | None = None
) -> list[PublishedResult]:
    """Results published by now; only the unit's own items when a unit is given."""
    out = []
    results = await session.scalars(
        select(CouncilResult)
        .where(CouncilResult.publish_at <= now)
        .order_by(CouncilResult.publish_at)
    )
    for result in results:
        query = (
            select(Unit.name, ResultItem.nominee, Award.name)
            .join(Unit, Unit.id == ResultItem.unit_id)
            .join(Award, Award.id == ResultItem.award_id)
            .where(ResultItem.result_id == result.id)
            .order_by(ResultItem.position)
        )
        if unit_id is not None:
            query = query.where(ResultItem.unit_id == unit_id)
        items = tuple((u, n, a) for u, n, a in await session.execute(query))
        campaign = await session.get_one(Campaign, result.campaign_id)
        out.append(PublishedResult(campaign, result.decision, result.publish_at, items))
    return out

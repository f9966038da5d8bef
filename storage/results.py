"""Council results: a campaign's decision and the awards it grants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import DossierEvent, record_event
from storage.models import Award, Campaign, CouncilResult, Nominee, ResultItem, Unit
from storage.text import name_key


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
    decided_by: str | None = None,
) -> str:
    """Create or update one decision of a campaign (a campaign may have several: the department's,
    then the provincial committee's); returns "added", "updated" or "unchanged"."""
    result = await session.scalar(
        select(CouncilResult).where(
            CouncilResult.campaign_id == campaign_id, CouncilResult.decision == decision
        )
    )
    wanted = [(i.unit_id, i.nominee, i.award_id) for i in items]
    if result is None:
        result = CouncilResult(
            campaign_id=campaign_id,
            decision=decision,
            decided_by=decided_by,
            publish_at=publish_at,
        )
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
        stored = (result.decided_by, result.publish_at, current)
        if stored == (decided_by, publish_at, wanted):
            return "unchanged"
        result.decided_by, result.publish_at = decided_by, publish_at
        outcome = "updated"
    await session.flush()
    await session.execute(delete(ResultItem).where(ResultItem.result_id == result.id))
    session.add_all(
        ResultItem(result_id=result.id, unit_id=u, nominee=n, award_id=a, position=i)
        for i, (u, n, a) in enumerate(wanted)
    )
    await session.flush()
    return outcome


async def record_published(
    session: AsyncSession, campaign_id: int, decision: str, items: list[ResultItemSpec]
) -> None:
    """A decision loaded from a results file in the dossier history of each of the campaign's
    nominees an item names (unit and name as storage.text.name_key compares them), dated when
    it is published, with no person (a data file); a name no nominee has records nothing. The
    council session records its own decisions with who recorded them (storage.council)."""
    result = await session.scalar(
        select(CouncilResult).where(
            CouncilResult.campaign_id == campaign_id, CouncilResult.decision == decision
        )
    )
    wanted = {(i.unit_id, name_key(i.nominee)): i.award_id for i in items}
    if result is None or not wanted:
        return
    nominees = await session.scalars(
        select(Nominee).where(
            Nominee.campaign_id == result.campaign_id,
            Nominee.unit_id.in_({unit for unit, _ in wanted}),
        )
    )
    named = await session.execute(
        select(Award.id, Award.name).where(Award.id.in_(set(wanted.values())))
    )
    awards = {award_id: name for award_id, name in named}
    for nominee in nominees:
        award_id = wanted.get((nominee.unit_id, nominee.name_key))
        if award_id is None:
            continue
        await record_event(
            session,
            campaign_id=result.campaign_id,
            unit_id=nominee.unit_id,
            nominee_id=nominee.id,
            event=DossierEvent.RESULT_PUBLISHED,
            actor_id=None,
            actor_name=result.decided_by or "",
            at=result.publish_at,
            detail={
                "decision": result.decision,
                "decided_by": result.decided_by,
                "award": awards.get(award_id),
            },
        )


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """A published decision with its items, in plain values."""

    campaign: Campaign
    decision: str
    publish_at: datetime
    items: tuple[tuple[str, str, str], ...]  # (unit name, nominee, award name)
    decided_by: str | None = None


def _items(result_id: int) -> Select[str, str, str]:
    """A decision's items as (unit name, nominee, award name), in the decision's order."""
    return (
        select(Unit.name, ResultItem.nominee, Award.name)
        .join(Unit, Unit.id == ResultItem.unit_id)
        .join(Award, Award.id == ResultItem.award_id)
        .where(ResultItem.result_id == result_id)
        .order_by(ResultItem.position)
    )


async def _published(
    session: AsyncSession, result: CouncilResult, items: Select[str, str, str]
) -> PublishedResult:
    rows = tuple((u, n, a) for u, n, a in await session.execute(items))
    campaign = await session.get_one(Campaign, result.campaign_id)
    return PublishedResult(campaign, result.decision, result.publish_at, rows, result.decided_by)


async def published_results(
    session: AsyncSession, now: datetime, unit_id: int | None = None, org_id: int | None = None
) -> list[PublishedResult]:
    """Every decision published by now (of an organisation's campaigns, if given), oldest
    first; only the unit's own items when a unit is given."""
    out = []
    decisions = (
        select(CouncilResult)
        .where(CouncilResult.publish_at <= now)
        .order_by(CouncilResult.publish_at, CouncilResult.id)
    )
    if org_id is not None:
        decisions = decisions.join(Campaign, Campaign.id == CouncilResult.campaign_id).where(
            Campaign.organization_id == org_id
        )
    results = await session.scalars(decisions)
    for result in results:
        query = _items(result.id)
        if unit_id is not None:
            query = query.where(ResultItem.unit_id == unit_id)
        out.append(await _published(session, result, query))
    return out


async def published_result(
    session: AsyncSession, result_id: int, unit_code: str | None = None
) -> PublishedResult:
    """One decision with its items (only those of the unit of this code, when given)."""
    result = await session.get_one(CouncilResult, result_id)
    query = _items(result.id)
    if unit_code is not None:
        query = query.where(Unit.code == unit_code)
    return await _published(session, result, query)


async def results_since(session: AsyncSession, since: datetime | None) -> list[CouncilResult]:
    """Decisions published at or after `since` (every one, when None)."""
    published = select(CouncilResult)
    if since is not None:
        published = published.where(CouncilResult.publish_at >= since)
    return list(await session.scalars(published))


async def result_unit_ids(session: AsyncSession, result_id: int) -> list[int]:
    """The units a decision names (each once)."""
    return list(
        await session.scalars(
            select(ResultItem.unit_id).where(ResultItem.result_id == result_id).distinct()
        )
    )

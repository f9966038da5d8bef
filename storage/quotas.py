"""Quotas of award forms (PRODUCT §6.1): the whole campaign's and each unit's, and the
proposals made against them."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import locks
from storage.models import Award, Campaign, Nominee, Target, Unit
from storage.nominees import active_awards, add_nominee, award_usage


def unit_quota(award: Award, unit_id: int) -> int | None:
    """How many nominees this unit may propose for the award: the unit's own figure when the
    file gives one, else the per-unit quota; None when there is no per-unit limit."""
    override = (award.quota_overrides or {}).get(str(unit_id))
    return override if override is not None else award.quota_per_unit


def has_unit_quotas(award: Award) -> bool:
    """Whether any unit's proposals for the award are limited."""
    return award.quota_per_unit is not None or bool(award.quota_overrides)


@dataclass(frozen=True, slots=True)
class AwardChoice:
    """An award form as a unit chooses it: the whole quota and its own, with what is proposed."""

    award: Award
    used: int  # proposals of every unit
    unit_used: int  # proposals of this unit
    unit_quota: int | None
    own_quota: bool  # the unit has a figure of its own (quota_overrides)

    @property
    def unit_full(self) -> bool:
        """Whether this unit may propose no one more for the award."""
        return self.unit_quota is not None and self.unit_used >= self.unit_quota


async def unit_award_usage(session: AsyncSession, campaign_id: int, unit_id: int) -> dict[int, int]:
    """How many nominees this unit proposes for each award form of the campaign."""
    rows = await session.execute(
        select(Nominee.award_id, func.count())
        .where(Nominee.campaign_id == campaign_id, Nominee.unit_id == unit_id)
        .group_by(Nominee.award_id)
    )
    return {award_id: n for award_id, n in rows}


def choices_of(
    awards: Sequence[Award], used: dict[int, int], unit_used: dict[int, int], unit_id: int
) -> list[AwardChoice]:
    """The awards with their counts and this unit's quota (pure)."""
    return [
        AwardChoice(
            award=a,
            used=used.get(a.id, 0),
            unit_used=unit_used.get(a.id, 0),
            unit_quota=unit_quota(a, unit_id),
            own_quota=str(unit_id) in (a.quota_overrides or {}),
        )
        for a in awards
    ]


async def award_choices(session: AsyncSession, campaign_id: int, unit_id: int) -> list[AwardChoice]:
    """The campaign's current award forms as this unit chooses among them, in file order."""
    return choices_of(
        await active_awards(session, campaign_id),
        await award_usage(session, campaign_id),
        await unit_award_usage(session, campaign_id, unit_id),
        unit_id,
    )


class Outcome(enum.StrEnum):
    """What became of a proposal."""

    ADDED = "added"
    DUPLICATE = "duplicate"  # the unit already proposes that name
    UNIT_FULL = "unit_full"  # the unit's quota for the award is reached: nothing saved


@dataclass(frozen=True, slots=True)
class Proposal:
    """The outcome of proposing a nominee, with the counts after it."""

    outcome: Outcome
    nominee: Nominee | None
    choice: AwardChoice


async def propose(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    name: str,
    award: Award,
    target: Target,
    by: int,
    now: datetime,
) -> Proposal:
    """Add a nominee unless the unit's quota for the award is reached or the name is already
    proposed; beyond the whole campaign's quota is allowed (the council decides)."""
    if session.get_bind().dialect.name == "postgresql":
        # Two focal points of one unit adding at once wait for each other here, so the count
        # below is never stale (on SQLite, BEGIN IMMEDIATE already runs writers one by one).
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:class, :key)"),
            {"class": locks.QUOTA_CLASS, "key": locks.quota_key(award.id, unit_id)},
        )
    unit_used = (await unit_award_usage(session, campaign_id, unit_id)).get(award.id, 0)
    limit = unit_quota(award, unit_id)
    own = str(unit_id) in (award.quota_overrides or {})
    outcome, nominee = Outcome.UNIT_FULL, None
    if limit is None or unit_used < limit:
        nominee = await add_nominee(
            session,
            campaign_id=campaign_id,
            unit_id=unit_id,
            name=name,
            award=award,
            target=target,
            by=by,
            now=now,
        )
        outcome = Outcome.DUPLICATE if nominee is None else Outcome.ADDED
    used = (await award_usage(session, campaign_id)).get(award.id, 0)
    unit_used += nominee is not None
    return Proposal(outcome, nominee, AwardChoice(award, used, unit_used, limit, own))


@dataclass(frozen=True, slots=True)
class OverQuota:
    """A unit proposing more than its quota for an award (a lowered quota, a reloaded file)."""

    unit: Unit
    used: int
    quota: int


@dataclass(frozen=True, slots=True)
class CampaignQuotas:
    """A campaign's awards with the proposals against their quotas, for the office."""

    campaign: Campaign
    awards: tuple[Award, ...]
    used: dict[int, int]
    over: dict[int, tuple[OverQuota, ...]]  # award id → units over their quota, by code


async def quota_report(
    session: AsyncSession, campaigns: Sequence[Campaign]
) -> list[CampaignQuotas]:
    """Per campaign, every current award with its proposals and the units over their quota."""
    report = []
    for campaign in campaigns:
        awards = await active_awards(session, campaign.id)
        limited = {a.id: a for a in awards if has_unit_quotas(a)}
        per_unit: list[tuple[int, int, int]] = []
        if limited:
            rows = await session.execute(
                select(Nominee.award_id, Nominee.unit_id, func.count())
                .where(Nominee.campaign_id == campaign.id, Nominee.award_id.in_(list(limited)))
                .group_by(Nominee.award_id, Nominee.unit_id)
            )
            per_unit = [
                (award_id, unit_id, n)
                for award_id, unit_id, n in rows
                if (q := unit_quota(limited[award_id], unit_id)) is not None and n > q
            ]
        units = (
            {
                u.id: u
                for u in await session.scalars(
                    select(Unit).where(Unit.id.in_({unit_id for _, unit_id, _ in per_unit}))
                )
            }
            if per_unit
            else {}
        )
        over: dict[int, list[OverQuota]] = {}
        for award_id, unit_id, n in per_unit:
            quota = unit_quota(limited[award_id], unit_id)
            assert quota is not None
            over.setdefault(award_id, []).append(OverQuota(units[unit_id], n, quota))
        report.append(
            CampaignQuotas(
                campaign,
                tuple(awards),
                await award_usage(session, campaign.id),
                {k: tuple(sorted(v, key=lambda o: o.unit.code)) for k, v in over.items()},
            )
        )
    return report

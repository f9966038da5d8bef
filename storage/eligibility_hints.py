"""Eligibility hints (PRODUCT §11): for the names a unit registers or proposes in a campaign,
each one's history (storage.history) evaluated against the organisation's loaded rules
(storage.rules, storage.eligibility) for the campaign's year. Hints warn; nothing here
refuses anything.

Which years the history can speak for: a title is sought for the campaign's year (the year
the history gives its published results), and that year's titles are decided with it, so
the year sought is never complete; nor is a later year, nor one of which the organisation's
history holds none of the titles a condition names (until a year's titles are published or
loaded, nobody's lack of them can be told: "cannot tell", not "missing").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.eligibility import (
    AllOf,
    AnyOf,
    Condition,
    Consecutive,
    Eligibility,
    Held,
    History,
    Holds,
    Rule,
    Verdict,
    evaluate,
    title_key,
)
from storage.history import histories_of
from storage.models import Award, Campaign, CouncilResult, Nominee, PastAward, ResultItem, Target
from storage.rules import rules_of

# complete_until when a condition's titles were never recorded: no year is complete.
NO_YEAR_COMPLETE = -(10**6)


@dataclass(frozen=True, slots=True)
class Sought:
    """A name of a unit (a person or a collective) and the title or award sought for it."""

    name: str
    target: Target
    title: str


def sought_year(campaign: Campaign) -> int:
    """The year a campaign's titles and awards are sought for: the year of its end, as the
    history dates a published result of it."""
    return campaign.end.year


def _title_groups(conditions: Sequence[Condition]) -> Iterator[frozenset[str]]:
    """The titles of each condition on titles held (its alternatives together), nested ones
    included."""
    for cond in conditions:
        if isinstance(cond, Holds | Consecutive):
            yield frozenset(title_key(t) for t in cond.titles)
        elif isinstance(cond, AnyOf | AllOf):
            yield from _title_groups(cond.of)


def complete_until(rule: Rule, year: int, recorded: Mapping[str, Set[int]]) -> int:
    """The last year the history is complete for the rule sought for `year`: before that year,
    and no later than the last year in which the organisation holds one of each condition's
    titles (`recorded`: the years of each title, by title_key)."""
    last = year - 1
    for group in _title_groups(rule.conditions):
        years = [y for key in group for y in recorded.get(key, ()) if y < year]
        last = min(last, max(years, default=NO_YEAR_COMPLETE))
    return last


async def recorded_years(
    session: AsyncSession, organization_id: int, now: datetime
) -> dict[str, set[int]]:
    """The years in which the organisation's history holds each title or award (by
    title_key): results published by `now` and the earlier years loaded."""
    published = (
        select(Award.name, Campaign.end)
        .distinct()
        .select_from(ResultItem)
        .join(CouncilResult, CouncilResult.id == ResultItem.result_id)
        .join(Campaign, Campaign.id == CouncilResult.campaign_id)
        .join(Award, Award.id == ResultItem.award_id)
        .where(Campaign.organization_id == organization_id, CouncilResult.publish_at <= now)
    )
    past = (
        select(PastAward.award, PastAward.year)
        .distinct()
        .where(PastAward.organization_id == organization_id)
    )
    years: dict[str, set[int]] = {}
    for name, end in await session.execute(published):
        years.setdefault(title_key(name), set()).add(end.year)
    for name, year in await session.execute(past):
        years.setdefault(title_key(name), set()).add(year)
    return years


def _target(target: Target) -> Literal["ca_nhan", "tap_the"] | None:
    if target is Target.CA_NHAN:
        return "ca_nhan"
    return "tap_the" if target is Target.TAP_THE else None


async def eligibility_hints(
    session: AsyncSession,
    organization_id: int,
    unit_id: int,
    year: int,
    sought: Sequence[Sought],
    now: datetime,
) -> list[Eligibility | None]:
    """For each name sought (in order), its eligibility for the title or award in `year`;
    None where there is nothing to say: no rules loaded, no rule for that title, or a
    household."""
    rules = await rules_of(session, organization_id) if sought else None
    if rules is None:
        return [None] * len(sought)
    found = [
        (s, target, rules.rule_for(s.title, target))
        for s in sought
        if (target := _target(s.target)) is not None
    ]
    ruled = [(s, target, rule) for s, target, rule in found if rule is not None]
    if not ruled:
        return [None] * len(sought)
    recorded = await recorded_years(session, organization_id, now)
    histories = await histories_of(
        session, organization_id, unit_id, [(s.name, s.target) for s, _, _ in ruled], now
    )
    hints: dict[Sought, Eligibility] = {}
    for s, target, rule in ruled:
        record = histories.get((s.name, s.target))
        held = tuple(Held(e.year, e.award) for e in record.entries) if record else ()
        history = History(target, held, complete_until(rule, year, recorded))
        result = evaluate(rules, history, s.title, year)
        if result.verdict is not Verdict.NO_RULE:
            hints[s] = result
    return [hints.get(s) for s in sought]


async def nominee_hint(
    session: AsyncSession,
    organization_id: int,
    campaign: Campaign,
    nominee: Nominee,
    award: Award,
    now: datetime,
) -> Eligibility | None:
    """A nominee's eligibility for its award in the campaign's year, or None (no hint)."""
    (hint,) = await eligibility_hints(
        session,
        organization_id,
        nominee.unit_id,
        sought_year(campaign),
        [Sought(nominee.name, nominee.target, award.name)],
        now,
    )
    return hint

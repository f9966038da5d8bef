"""Eligibility rules as data (PRODUCT §11): the `rules` document (storage.eligibility_schema,
whose names are handed on here) and a pure evaluator that tells, from a person's or a
collective's history, whether a title is within reach, what is missing, or what cannot be
told. No I/O; findings are data, worded later by templates."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from storage.eligibility_schema import (
    LEVELS,
    SCOPES,
    AllOf,
    AnyOf,
    Condition,
    Consecutive,
    Holds,
    Initiatives,
    Judged,
    Level,
    Rated,
    Rule,
    RulesBody,
    RulesDocument,
    Scope,
    Share,
    Target,
    Work,
    read_rules,
    title_key,
)

__all__ = [
    "LEVELS",
    "SCOPES",
    "AllOf",
    "AnyOf",
    "Condition",
    "Consecutive",
    "Eligibility",
    "Finding",
    "Held",
    "History",
    "Holds",
    "Initiative",
    "Initiatives",
    "InitiativesListed",
    "Judged",
    "Level",
    "MemberShare",
    "Rated",
    "Rating",
    "Record",
    "Rule",
    "RulesBody",
    "RulesDocument",
    "Scope",
    "Share",
    "Status",
    "Target",
    "Verdict",
    "Work",
    "evaluate",
    "read_rules",
    "title_key",
]


# --- History ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """A title or award held, by the year of the achievement."""

    year: int
    name: str


@dataclass(frozen=True, slots=True)
class Rating:
    """A year's quality rating."""

    year: int
    level: Level


@dataclass(frozen=True, slots=True)
class Initiative:
    """A recognised initiative or an accepted study, by year, with its scope."""

    year: int
    scope: Scope = "co_so"
    kind: Work = "sang_kien"


@dataclass(frozen=True, slots=True)
class InitiativesListed:
    """All of that year's recognised works are among the records, if any: too few is then
    missing rather than unknown."""

    year: int


@dataclass(frozen=True, slots=True)
class MemberShare:
    """The percentage of a collective's members holding `title`, or rated at least `rated`."""

    year: int
    percent: float
    title: str | None = None
    rated: Level | None = None


Record = Held | Rating | Initiative | InitiativesListed | MemberShare


@dataclass(frozen=True, slots=True)
class History:
    """What is known of a person or a collective. Titles of years after `complete_until` may
    not be published yet: their absence cannot tell (None: every year is complete)."""

    target: Target
    records: tuple[Record, ...] = ()
    complete_until: int | None = None


# --- Findings --------------------------------------------------------------------------------


class Status(enum.StrEnum):
    """One condition's outcome."""

    MET = "met"
    MISSING = "missing"
    UNKNOWN = "unknown"


class Verdict(enum.StrEnum):
    """A title's outcome."""

    ELIGIBLE = "eligible"
    MISSING = "missing"
    CANNOT_TELL = "cannot_tell"
    NO_RULE = "no_rule"


@dataclass(frozen=True, slots=True)
class Finding:
    """A condition, its outcome, what was found (by key, for templates) and, for `any` and
    `all`, the findings of its parts."""

    kind: str
    condition: Condition
    status: Status
    found: Mapping[str, Any] = field(default_factory=dict)
    parts: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class Eligibility:
    """A title sought for a year: the verdict, the rule it came from and every finding."""

    verdict: Verdict
    title: str
    year: int
    rule: Rule | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def missing(self) -> tuple[Finding, ...]:
        """The conditions not met."""
        return tuple(f for f in self.findings if f.status is Status.MISSING)

    @property
    def unknown(self) -> tuple[Finding, ...]:
        """The conditions the history cannot tell."""
        return tuple(f for f in self.findings if f.status is Status.UNKNOWN)


class _Facts:
    """A history indexed for the conditions."""

    def __init__(self, history: History) -> None:
        self.complete_until = history.complete_until
        self.held: dict[int, set[str]] = {}
        self.level: dict[int, int] = {}  # the best rating of each year, as its rank
        self.works: list[Initiative] = []
        self.listed: set[int] = set()
        self.share: dict[tuple[int, str], float] = {}
        # Duplicates keep the best (so that a record added never takes anything away); values
        # outside the vocabulary are left out rather than trusted.
        for r in history.records:
            if isinstance(r, Held):
                self.held.setdefault(r.year, set()).add(title_key(r.name))
            elif isinstance(r, Rating) and r.level in LEVELS:
                self.level[r.year] = max(self.level.get(r.year, 0), LEVELS.index(r.level))
            elif isinstance(r, Initiative) and r.scope in SCOPES:
                self.works.append(r)
            elif isinstance(r, InitiativesListed):
                self.listed.add(r.year)
            elif isinstance(r, MemberShare) and math.isfinite(r.percent) and _names_one(r):
                key = (r.year, _share_key(r.title, r.rated))
                self.share[key] = max(self.share.get(key, r.percent), r.percent)

    def holds(self, year: int, keys: set[str]) -> Status:
        """Holds one of the titles that year; absent from a year not yet complete: unknown."""
        if self.held.get(year, set()) & keys:
            return Status.MET
        complete = self.complete_until is None or year <= self.complete_until
        return Status.MISSING if complete else Status.UNKNOWN

    def rated(self, year: int, at_least: Level) -> Status:
        """Rated at least that level that year; no rating known: unknown."""
        if year not in self.level:
            return Status.UNKNOWN
        return Status.MET if self.level[year] >= LEVELS.index(at_least) else Status.MISSING

    def initiatives(self, cond: Initiatives, year: int) -> Finding:
        """Enough recognised works in the window; too few is missing only where every year
        of the window is listed in full."""
        spec = cond
        first = None if spec.within is None else year - spec.within + 1
        years = sorted(
            w.year
            for w in self.works
            if (first is None or first <= w.year)
            and w.year <= year
            and SCOPES.index(w.scope) >= SCOPES.index(spec.scope)
            and w.kind in spec.works
        )
        if len(years) >= spec.count:
            status = Status.MET
        elif first is not None and self.listed.issuperset(range(first, year + 1)):
            status = Status.MISSING
        else:
            status = Status.UNKNOWN
        return Finding("initiatives", cond, status, {"count": len(years), "years": years})


def _names_one(share: MemberShare) -> bool:
    return (share.title is None) != (share.rated is None)


def _share_key(title: str | None, rated: Level | None) -> str:
    return f"title:{title_key(title)}" if title is not None else f"rated:{rated}"


def _join(statuses: Iterable[Status], decisive: Status, otherwise: Status) -> Status:
    """Three-valued logic: `decisive` wins, then unknown, else `otherwise`."""
    found = set(statuses)
    return (
        decisive if decisive in found else Status.UNKNOWN if Status.UNKNOWN in found else otherwise
    )


def _all(statuses: Iterable[Status]) -> Status:
    return _join(statuses, Status.MISSING, Status.MET)


def _any(statuses: Iterable[Status]) -> Status:
    return _join(statuses, Status.MET, Status.MISSING)


def _check(cond: Condition, facts: _Facts, year: int) -> Finding:
    """One condition against the facts, for the year sought."""
    kind = cond.kind
    if isinstance(cond, Holds):
        status = facts.holds(year, {title_key(t) for t in cond.titles})
        return Finding(kind, cond, status, {"year": year})
    if isinstance(cond, Consecutive):
        spec = cond
        last = year if spec.ending == "year" else year - 1
        keys = {title_key(t) for t in spec.titles}
        by_year = {y: facts.holds(y, keys) for y in range(last - spec.count + 1, last + 1)}
        held = [y for y, s in by_year.items() if s is Status.MET]
        lacking = [y for y, s in by_year.items() if s is Status.MISSING]
        return Finding(kind, cond, _all(by_year.values()), {"held": held, "lacking": lacking})
    if isinstance(cond, Rated):
        window = range(year - cond.years + 1, year + 1)
        statuses = [facts.rated(y, cond.at_least) for y in window]
        levels = {y: LEVELS[facts.level[y]] for y in window if y in facts.level}
        return Finding(kind, cond, _all(statuses), {"levels": levels})
    if isinstance(cond, Initiatives):
        return facts.initiatives(cond, year)
    if isinstance(cond, Share):
        percent = facts.share.get((year, _share_key(cond.title, cond.rated)))
        if percent is None:
            status = Status.UNKNOWN
        elif cond.at_least is not None:
            status = Status.MET if percent >= cond.at_least else Status.MISSING
        else:
            status = Status.MET if percent > (cond.more_than or 0) else Status.MISSING
        return Finding(kind, cond, status, {"percent": percent})
    if isinstance(cond, AnyOf):
        parts = tuple(_check(c, facts, year) for c in cond.of)
        return Finding(kind, cond, _any(p.status for p in parts), parts=parts)
    if isinstance(cond, AllOf):
        parts = tuple(_check(c, facts, year) for c in cond.of)
        return Finding(kind, cond, _all(p.status for p in parts), parts=parts)
    return Finding(kind, cond, Status.UNKNOWN)  # Judged: the council's to weigh


_VERDICTS = {
    Status.MET: Verdict.ELIGIBLE,
    Status.MISSING: Verdict.MISSING,
    Status.UNKNOWN: Verdict.CANNOT_TELL,
}


def evaluate(rules: RulesDocument, history: History, title: str, year: int) -> Eligibility:
    """Whether `title` is within reach for `year` given the history: eligible, what is missing,
    or what the history cannot tell (never raises for any history)."""
    rule = rules.rule_for(title, history.target)
    if rule is None:
        return Eligibility(Verdict.NO_RULE, title, year)
    facts = _Facts(history)
    findings = tuple(_check(c, facts, year) for c in rule.conditions)
    verdict = _VERDICTS[_all(f.status for f in findings)]
    return Eligibility(verdict, title, year, rule, findings)

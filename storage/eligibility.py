"""Eligibility rules as data (PRODUCT §11): the `rules` document's schema, and a pure evaluator
that tells, from a person's or a collective's history, whether a title is within reach, what
is missing, or what cannot be told. No I/O; findings are data, worded later by templates."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from storage.text import fold

Target = Literal["ca_nhan", "tap_the"]
# A year's quality rating (the yearly assessment of staff and units), lowest first.
Level = Literal["khong_hoan_thanh", "hoan_thanh", "tot", "xuat_sac"]
LEVELS: tuple[Level, ...] = ("khong_hoan_thanh", "hoan_thanh", "tot", "xuat_sac")
# Where an initiative was recognised to have effect, narrowest first.
Scope = Literal["co_so", "tinh", "toan_quoc"]
SCOPES: tuple[Scope, ...] = ("co_so", "tinh", "toan_quoc")
# A recognised initiative, or a scientific study or project accepted on completion.
Work = Literal["sang_kien", "de_tai"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Years = Annotated[int, Field(ge=1, le=50)]
OrgCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")]

# Syllables official texts write with i or y alike (si/sy once folded), and the optional word
# for "level".
_I_OR_Y = {"sy": "si", "ky": "ki", "ly": "li", "my": "mi", "ty": "ti", "hy": "hi"}
_OPTIONAL = {"cap"}


def title_key(name: str) -> str:
    """A title's name as titles compare: folded (storage.text.fold), si = sy, "cap" optional."""
    words = fold(name).replace(".", " ").replace(",", " ").split()
    return " ".join(_I_OR_Y.get(w, w) for w in words if w not in _OPTIONAL)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Cond(_Strict):
    """A condition: its kind, and the point of the text it comes from, if given."""

    basis: Text | None = None


class Holds(_Cond):
    """Holds one of these titles in the year sought."""

    kind: Literal["holds"]
    titles: list[Name] = Field(min_length=1)


class Consecutive(_Cond):
    """Held one of these titles in each of `count` consecutive years, the last being the year
    sought (`ending: year`) or the year before it."""

    kind: Literal["consecutive"]
    titles: list[Name] = Field(min_length=1)
    count: int = Field(ge=2, le=50)
    ending: Literal["year", "year_before"] = "year"


class Rated(_Cond):
    """Rated at least `at_least` in each of the `years` years up to the year sought."""

    kind: Literal["rated"]
    at_least: Level
    years: Years = 1


class Initiatives(_Cond):
    """At least `count` recognised works of `scope` or wider in the `within` years up to the
    year sought (none: any year up to it)."""

    kind: Literal["initiatives"]
    count: int = Field(default=1, ge=1, le=100)
    scope: Scope = "co_so"
    within: Years | None = None
    works: list[Work] = Field(default=["sang_kien", "de_tai"], min_length=1)


class Share(_Cond):
    """A share of the collective's members, in the year sought, holding a title (`title`) or
    rated at least a level (`rated`): at least, or more than, a percentage."""

    kind: Literal["share"]
    title: Name | None = None
    rated: Level | None = None
    at_least: float | None = Field(default=None, ge=0, le=100)
    more_than: float | None = Field(default=None, ge=0, lt=100)

    @model_validator(mode="after")
    def _one_of_each(self) -> Share:
        # Custom error types, so that a loader can word them (bot/datafiles/errors.py).
        for first, second in (("title", "rated"), ("at_least", "more_than")):
            if (getattr(self, first) is None) == (getattr(self, second) is None):
                raise PydanticCustomError(
                    "exactly_one_of",
                    "exactly one of {first}, {second}",
                    {"first": first, "second": second},
                )
        return self


class Judged(_Cond):
    """A criterion the council weighs: the history cannot tell."""

    kind: Literal["judged"]
    text: Text


class AnyOf(_Cond):
    """One of the conditions."""

    kind: Literal["any"]
    of: list[Condition] = Field(min_length=2)


class AllOf(_Cond):
    """Every one of the conditions."""

    kind: Literal["all"]
    of: list[Condition] = Field(min_length=2)


Condition = Annotated[
    Holds | Consecutive | Rated | Initiatives | Share | Judged | AnyOf | AllOf,
    Field(discriminator="kind"),
]
AnyOf.model_rebuild()
AllOf.model_rebuild()


class Rule(_Strict):
    """The conditions of one title or award, all required, with their legal basis."""

    names: list[Name] = Field(min_length=1)
    target: Target
    basis: Text
    note: Text | None = None
    conditions: list[Condition] = Field(min_length=1)

    @property
    def name(self) -> str:
        """The title's name as the rule first gives it."""
        return self.names[0]


class RulesBody(_Strict):
    """The body of a rules document."""

    title: Text
    items: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_rule_per_title(self) -> RulesBody:
        seen: set[tuple[str, str]] = set()
        for rule in self.items:
            keys = {(title_key(name), rule.target) for name in rule.names}
            if twice := keys & seen:
                raise PydanticCustomError(
                    "two_rules",
                    "two rules for {title!r} ({target})",
                    {"title": sorted(twice)[0][0], "target": rule.target},
                )
            seen |= keys
        return self


class RulesDocument(_Strict):
    """A rules file: the law's conditions, or an organisation's own."""

    organization: OrgCode | None = None
    rules: RulesBody

    def rule_for(self, title: str, target: Target) -> Rule | None:
        """The rule for a title (however its name is typed) and a target, if any."""
        key = title_key(title)
        for rule in self.rules.items:
            if rule.target == target and key in {title_key(n) for n in rule.names}:
                return rule
        return None


def read_rules(data: object) -> RulesDocument:
    """A rules document from parsed YAML; pydantic's ValidationError names each bad field."""
    return RulesDocument.model_validate(data)


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

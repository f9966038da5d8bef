"""Eligibility rules as data (PRODUCT §11): the `rules` document's schema, and a pure evaluator
that tells, from a person's or a collective's history, whether a title is within reach, what
is missing, or what cannot be told. No I/O; findings are data, worded later by templates."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from storage.text import fold

Target = Literal["ca_nhan", "tap_the"]
# A year's quality rating (đánh giá, xếp loại), lowest first.
Level = Literal["khong_hoan_thanh", "hoan_thanh", "tot", "xuat_sac"]
LEVELS: tuple[Level, ...] = ("khong_hoan_thanh", "hoan_thanh", "tot", "xuat_sac")
# Where an initiative was recognised to have effect, narrowest first.
Scope = Literal["co_so", "tinh", "toan_quoc"]
SCOPES: tuple[Scope, ...] = ("co_so", "tinh", "toan_quoc")
# A sáng kiến, or a đề tài / đề án / công trình khoa học accepted (nghiệm thu).
Work = Literal["sang_kien", "de_tai"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Years = Annotated[int, Field(ge=1, le=50)]

# Syllables official texts write with i or y alike (sĩ/sỹ), and the optional word for "level".
_I_OR_Y = {"sy": "si", "ky": "ki", "ly": "li", "my": "mi", "ty": "ti", "hy": "hi"}
_OPTIONAL = {"cap"}


def title_key(name: str) -> str:
    """A title's name as titles compare: folded (storage.text.fold), sĩ = sỹ, "cấp" optional."""
    words = fold(name).replace(".", " ").replace(",", " ").split()
    return " ".join(_I_OR_Y.get(w, w) for w in words if w not in _OPTIONAL)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HoldsSpec(_Strict):
    """Holds one of these titles in the year sought."""

    titles: list[Name] = Field(min_length=1)


class ConsecutiveSpec(_Strict):
    """Held one of these titles in each of `count` consecutive years, the last being the year
    sought (`ending: year`) or the year before it."""

    titles: list[Name] = Field(min_length=1)
    count: int = Field(ge=2, le=50)
    ending: Literal["year", "year_before"] = "year"


class RatedSpec(_Strict):
    """Rated at least `at_least` in each of the `years` years up to the year sought."""

    at_least: Level
    years: Years = 1


class InitiativesSpec(_Strict):
    """At least `count` recognised works of `scope` or wider in the `within` years up to the
    year sought (none: any year up to it)."""

    count: int = Field(default=1, ge=1, le=100)
    scope: Scope = "co_so"
    within: Years | None = None
    kinds: list[Work] = Field(default=["sang_kien", "de_tai"], min_length=1)


class ShareSpec(_Strict):
    """A share of the collective's members, in the year sought, holding a title (`title`) or
    rated at least a level (`rated`): at least, or more than, a percentage."""

    title: Name | None = None
    rated: Level | None = None
    at_least: float | None = Field(default=None, ge=0, le=100)
    more_than: float | None = Field(default=None, ge=0, lt=100)

    @model_validator(mode="after")
    def _one_of_each(self) -> ShareSpec:
        if (self.title is None) == (self.rated is None):
            raise ValueError("exactly one of title, rated")
        if (self.at_least is None) == (self.more_than is None):
            raise ValueError("exactly one of at_least, more_than")
        return self


class JudgedSpec(_Strict):
    """A criterion the council weighs; history cannot tell."""

    text: Text


class Holds(_Strict):
    holds: HoldsSpec
    basis: Text | None = None


class Consecutive(_Strict):
    consecutive: ConsecutiveSpec
    basis: Text | None = None


class Rated(_Strict):
    rated: RatedSpec
    basis: Text | None = None


class Initiatives(_Strict):
    initiatives: InitiativesSpec
    basis: Text | None = None


class Share(_Strict):
    share: ShareSpec
    basis: Text | None = None


class Judged(_Strict):
    judged: JudgedSpec
    basis: Text | None = None


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=2)
    basis: Text | None = None


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=2)
    basis: Text | None = None


_KINDS = ("holds", "consecutive", "rated", "initiatives", "share", "judged", "any", "all")


def _kind(value: Any) -> str | None:
    """The condition's kind: the first key of the mapping that names one."""
    if isinstance(value, Mapping):
        return next((k for k in value if k in _KINDS), None)
    if isinstance(value, BaseModel):
        return next((k for k in _KINDS if k in type(value).model_fields), None)
    return None


Condition = Annotated[
    Annotated[Holds, Tag("holds")]
    | Annotated[Consecutive, Tag("consecutive")]
    | Annotated[Rated, Tag("rated")]
    | Annotated[Initiatives, Tag("initiatives")]
    | Annotated[Share, Tag("share")]
    | Annotated[Judged, Tag("judged")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[AllOf, Tag("all")],
    Discriminator(
        _kind,
        custom_error_type="condition_kind",
        custom_error_message="a condition is one of: " + ", ".join(_KINDS),
    ),
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
                raise ValueError(f"two rules for {sorted(twice)[0][0]!r} ({rule.target})")
            seen |= keys
        return self


class RulesDocument(_Strict):
    """A rules file: the law's conditions, or an organisation's own."""

    organization: (
        Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")] | None
    ) = None
    rules: RulesBody

    def rule_for(self, title: str, target: Target) -> Rule | None:
        """The rule for a title (however its name is typed) and a target, if any."""
        key = title_key(title)
        return next(
            (
                rule
                for rule in self.rules.items
                if rule.target == target and key in {title_key(n) for n in rule.names}
            ),
            None,
        )


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
    """A recognised sáng kiến or accepted đề tài, by year, with its scope."""

    year: int
    scope: Scope = "co_so"
    kind: Work = "sang_kien"


@dataclass(frozen=True, slots=True)
class InitiativesListed:
    """Every recognised work of that year is among the records (none: none were)."""

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
    condition: Any
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
        self.level: dict[int, int] = {}
        self.works: list[Initiative] = []
        self.listed: set[int] = set()
        self.share: dict[tuple[int, str], float] = {}
        for r in history.records:
            if isinstance(r, Held):
                self.held.setdefault(r.year, set()).add(title_key(r.name))
            elif isinstance(r, Rating):
                self.level[r.year] = max(self.level.get(r.year, 0), LEVELS.index(r.level))
            elif isinstance(r, Initiative):
                self.works.append(r)
            elif isinstance(r, InitiativesListed):
                self.listed.add(r.year)
            elif (r.title is None) != (r.rated is None):  # a MemberShare naming one thing
                key = (r.year, _share_key(r.title, r.rated))
                self.share[key] = max(self.share.get(key, r.percent), r.percent)

    def holds(self, year: int, keys: set[str]) -> Status:
        if self.held.get(year, set()) & keys:
            return Status.MET
        complete = self.complete_until is None or year <= self.complete_until
        return Status.MISSING if complete else Status.UNKNOWN


def _share_key(title: str | None, rated: Level | None) -> str:
    return f"title:{title_key(title)}" if title is not None else f"rated:{rated}"


def _all(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    if Status.MISSING in found:
        return Status.MISSING
    return Status.UNKNOWN if Status.UNKNOWN in found else Status.MET


def _any(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    if Status.MET in found:
        return Status.MET
    return Status.UNKNOWN if Status.UNKNOWN in found else Status.MISSING


def _check(cond: Condition, facts: _Facts, year: int) -> Finding:
    """One condition against the facts, for the year sought."""
    kind = _kind(cond) or ""
    if isinstance(cond, Holds):
        status = facts.holds(year, {title_key(t) for t in cond.holds.titles})
        return Finding(kind, cond, status, {"year": year})
    if isinstance(cond, Consecutive):
        spec = cond.consecutive
        last = year if spec.ending == "year" else year - 1
        window = range(last - spec.count + 1, last + 1)
        keys = {title_key(t) for t in spec.titles}
        by_year = {y: facts.holds(y, keys) for y in window}
        held = [y for y, s in by_year.items() if s is Status.MET]
        lacking = [y for y, s in by_year.items() if s is Status.MISSING]
        return Finding(kind, cond, _all(by_year.values()), {"held": held, "lacking": lacking})
    if isinstance(cond, Rated):
        need = LEVELS.index(cond.rated.at_least)
        window = range(year - cond.rated.years + 1, year + 1)
        levels = {y: LEVELS[facts.level[y]] for y in window if y in facts.level}
        statuses = [
            Status.UNKNOWN
            if y not in facts.level
            else Status.MET
            if facts.level[y] >= need
            else Status.MISSING
            for y in window
        ]
        return Finding(kind, cond, _all(statuses), {"levels": levels})
    if isinstance(cond, Initiatives):
        ispec = cond.initiatives
        first = None if ispec.within is None else year - ispec.within + 1
        years = sorted(
            w.year
            for w in facts.works
            if w.year <= year
            and (first is None or w.year >= first)
            and SCOPES.index(w.scope) >= SCOPES.index(ispec.scope)
            and w.kind in ispec.kinds
        )
        if len(years) >= ispec.count:
            status = Status.MET
        elif first is not None and all(y in facts.listed for y in range(first, year + 1)):
            status = Status.MISSING
        else:
            status = Status.UNKNOWN
        return Finding(kind, cond, status, {"count": len(years), "years": years})
    if isinstance(cond, Share):
        sspec = cond.share
        percent = facts.share.get((year, _share_key(sspec.title, sspec.rated)))
        if percent is None:
            status = Status.UNKNOWN
        elif sspec.at_least is not None:
            status = Status.MET if percent >= sspec.at_least else Status.MISSING
        else:
            status = Status.MET if percent > (sspec.more_than or 0) else Status.MISSING
        return Finding(kind, cond, status, {"percent": percent})
    if isinstance(cond, AnyOf | AllOf):
        parts = tuple(
            _check(c, facts, year) for c in (cond.any if isinstance(cond, AnyOf) else cond.all)
        )
        combine = _any if isinstance(cond, AnyOf) else _all
        return Finding(kind, cond, combine(p.status for p in parts), parts=parts)
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

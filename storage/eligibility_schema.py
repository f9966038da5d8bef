"""The `rules` document's schema (PRODUCT §11): each rule a title sought, its conditions and
their legal basis, as pydantic models that name every bad field. No I/O."""

from __future__ import annotations

from typing import Annotated, Literal

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

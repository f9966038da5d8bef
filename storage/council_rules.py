"""The council's rules as data (PRODUCT §11): a quorum ("≥ 2/3" of the members) and, per
award, the share of votes that carries a proposal ("≥ 90%" of the members, "> 50%" of those
who voted). Written as the bodies' rules of procedure write them; pure, no I/O."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from fractions import Fraction

# What a rule is counted against: those who took part in the vote, or the whole council.
OF_PRESENT = "present"
OF_MEMBERS = "members"
OF_CHOICES = (OF_PRESENT, OF_MEMBERS)

# Where the rules say nothing: a session is valid with at least two thirds of the members, and
# a proposal carries with more than half of the votes of those present (a majority).
DEFAULT_QUORUM = "≥ 2/3"
DEFAULT_THRESHOLD = "> 50%"
DEFAULT_OF = OF_PRESENT

_SHARE = re.compile(
    r"^\s*(?P<op>≥|>=|>|)\s*(?:(?P<num>\d{1,3})\s*/\s*(?P<den>\d{1,3})|(?P<pct>\d{1,3}(?:[.,]\d{1,2})?)\s*%)\s*$"
)


class Comparison(enum.StrEnum):
    """At least the share, or more than it."""

    AT_LEAST = "≥"
    MORE_THAN = ">"


@dataclass(frozen=True, slots=True)
class Share:
    """A share of a count: "≥ 2/3", "> 50%"."""

    fraction: Fraction
    comparison: Comparison = Comparison.AT_LEAST
    percent: bool = False  # written as a percentage

    def met(self, count: int, of: int) -> bool:
        """Whether `count` out of `of` reaches the share (never with `of` = 0)."""
        if of <= 0:
            return False
        if self.comparison is Comparison.MORE_THAN:
            return Fraction(count, of) > self.fraction
        return Fraction(count, of) >= self.fraction

    def needed(self, of: int) -> int:
        """The fewest of `of` that reach the share (of + 1 when none can)."""
        for count in range(of + 1):
            if self.met(count, of):
                return count
        return of + 1

    def __str__(self) -> str:
        if self.percent:
            value = self.fraction * 100
            number = str(value.numerator) if value.denominator == 1 else f"{float(value):g}"
            written = f"{number.replace('.', ',')}%"
        else:
            written = f"{self.fraction.numerator}/{self.fraction.denominator}"
        return f"{self.comparison.value} {written}"


def parse_share(text: str) -> Share:
    """A share as written ("≥ 2/3", ">= 90%", "> 50%", "2/3": at least); ValueError otherwise."""
    m = _SHARE.match(text)
    if m is None:
        raise ValueError(f"not a share: {text!r} (e.g. '≥ 2/3' or '> 50%')")
    comparison = Comparison.MORE_THAN if m["op"] == ">" else Comparison.AT_LEAST
    if m["pct"] is not None:
        fraction = Fraction(m["pct"].replace(",", ".")) / 100
        percent = True
    else:
        if int(m["den"]) == 0:
            raise ValueError(f"not a share: {text!r} (a zero denominator)")
        fraction, percent = Fraction(int(m["num"]), int(m["den"])), False
    if not 0 < fraction <= 1:
        raise ValueError(f"not a share: {text!r} (between 0 and 100%)")
    return Share(fraction, comparison, percent)


@dataclass(frozen=True, slots=True)
class VoteRule:
    """The share of agreeing votes a proposal needs, counted on those present or the members."""

    share: Share
    of: str = DEFAULT_OF

    def carries(self, yes: int, present: int, members: int) -> bool:
        """Whether `yes` agreeing votes carry the proposal."""
        return self.share.met(yes, present if self.of == OF_PRESENT else members)

    def needed(self, present: int, members: int) -> int:
        """The fewest agreeing votes that carry it."""
        return self.share.needed(present if self.of == OF_PRESENT else members)


def quorum_of(text: str | None) -> Share:
    """A campaign's stored quorum, or the usual one."""
    return parse_share(text or DEFAULT_QUORUM)


def vote_rule_of(threshold: str | None, of: str | None) -> VoteRule:
    """An award's stored vote rule, or the usual one."""
    return VoteRule(parse_share(threshold or DEFAULT_THRESHOLD), of or DEFAULT_OF)

"""What the summary workbook reads, as protocols: the plain values of `storage.summary` fit them.

Protocols rather than an import, so messages stays apart from storage (the arrows point from
handlers and bot to both); read-only properties, so frozen dataclasses match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, datetime
from typing import Protocol


class UnitRegistration(Protocol):
    """One unit's registration for a campaign."""

    @property
    def unit_code(self) -> str: ...
    @property
    def unit_name(self) -> str: ...
    @property
    def registered(self) -> bool: ...
    @property
    def registered_at(self) -> datetime | None: ...  # naive local time
    @property
    def collective_title(self) -> str | None: ...
    @property
    def individuals(self) -> Sequence[tuple[str, str, str]]: ...  # (full name, position, title)


class CampaignRegistrations(Protocol):
    """A campaign and every unit's registration for it."""

    @property
    def code(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def registration_deadline(self) -> date | None: ...
    @property
    def individual_titles(self) -> Sequence[str]: ...  # column order for the per-title counts
    @property
    def units(self) -> Sequence[UnitRegistration]: ...


class QuarterTasks(Protocol):
    """One quarter of the plan: tasks, which unit must do which, and what is done."""

    @property
    def year(self) -> int: ...
    @property
    def quarter(self) -> int: ...
    @property
    def tasks(self) -> Sequence[tuple[int, str, date | None]]: ...  # (number, content, due)
    @property
    def units(self) -> Sequence[tuple[str, str]]: ...  # (code, name) in row order
    @property
    def responsible(self) -> Set[tuple[str, int]]: ...  # (unit code, task number) to do
    @property
    def done(self) -> Mapping[tuple[str, int], date]: ...  # the same -> the day marked done


class OfficeSummary(Protocol):
    """The office summary: whose workbook, when, and what it holds."""

    @property
    def organization(self) -> str: ...
    @property
    def generated_at(self) -> datetime: ...  # naive local time
    @property
    def campaigns(self) -> Sequence[CampaignRegistrations]: ...
    @property
    def quarters(self) -> Sequence[QuarterTasks]: ...

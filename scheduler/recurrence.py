"""Recurring tasks and chained deadlines: pure date arithmetic over the working-day calendar."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from scheduler.calendar import is_working_day

# Months in one period of each kind of recurrence.
PERIOD_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


def occurrences(year: int, repeat: str, day: int, month: int | None = None) -> list[date]:
    """The due dates of a recurring task in a year: day N (0: the last day) of the given month
    of each period (default: its last month), e.g. quarterly day 15 -> 15/3, 15/6, 15/9, 15/12."""
    length = PERIOD_MONTHS[repeat]
    within = month if month is not None else length
    found = []
    for first in range(1, 13, length):
        m = first + within - 1
        last = calendar.monthrange(year, m)[1]
        found.append(date(year, m, last if day == 0 else min(day, last)))
    return found


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n = 0: `start` itself)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= is_working_day(day)
    return day


@dataclass(frozen=True, slots=True)
class Step:
    """A campaign deadline as stored: a date, or counted from another step."""

    code: str
    due: date | None
    after: str | None = None
    days: int | None = None
    working_days: bool = False


def resolve_steps(steps: list[Step], known: Mapping[str, date | None]) -> dict[str, date | None]:
    """Each step's date: its own, or `days` (working or calendar) after the step it follows
    (another step, or one of `known`: launch, registration, dossier). None when the step it
    follows has no date, or for a loop (the loader refuses loops; this never hangs)."""
    by_code = {s.code: s for s in steps}
    resolved: dict[str, date | None] = {}

    def date_of(code: str, depth: int) -> date | None:
        if code in resolved:
            return resolved[code]
        step = by_code.get(code)
        if step is None:
            return known.get(code)
        if step.after is None:
            value = step.due
        elif depth > len(steps):
            value = None
        else:
            base = date_of(step.after, depth + 1)
            n = step.days or 0
            if base is None:
                value = None
            elif step.working_days:
                value = add_working_days(base, n)
            else:
                value = base + timedelta(days=n)
        resolved[code] = value
        return value

    for step in steps:
        date_of(step.code, 0)
    return {s.code: resolved[s.code] for s in steps}


def campaign_step_dates(
    steps: list[Step], launch: date, registration: date | None, dossier: date | None
) -> dict[str, date | None]:
    """A campaign's steps dated: counted, where they say so, from another step, the launch,
    the registration or the dossier deadline."""
    return resolve_steps(
        steps, {"launch": launch, "registration": registration, "dossier": dossier}
    )

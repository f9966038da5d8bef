"""Calendar documents (PRODUCT §6.1, §7): the days off and worked days a government notice
sets, loaded so that the bot follows a late swap the same day, without a new release."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles.checks import LoadError, problem
from bot.datafiles.schema import Name, Strict
from storage.calendar import CalendarDaySpec, upsert_calendar_days
from storage.units import LoadCounts


class CalendarDayEntry(Strict):
    """One day of a calendar document; its source defaults to the document's."""

    date: dt.date
    name: Name  # Name fits the calendar_days columns (String(300)), as does source
    source: Name | None = None


class CalendarBody(Strict):
    """The body of a calendar document: one year's days off and worked days."""

    year: int = Field(ge=2000, le=2100)
    source: Name
    days_off: list[CalendarDayEntry] = Field(default_factory=list)
    working_days: list[CalendarDayEntry] = Field(default_factory=list)


class CalendarDocument(Strict):
    """A calendar file."""

    calendar: CalendarBody


def _sections(body: CalendarBody) -> tuple[tuple[str, list[CalendarDayEntry]], ...]:
    return ("days_off", body.days_off), ("working_days", body.working_days)


def check_calendar(
    file: str, body: CalendarBody, earlier: Sequence[tuple[str, CalendarBody]] = ()
) -> list[LoadError]:
    """Dates within the year, none given twice (in this document or an `earlier` one of the
    same load), none both off and worked. A day off that is a weekend anyway, or a working
    day that is a weekday anyway, changes nothing and is accepted."""
    elsewhere = {e.date: other for other, b in earlier for _, es in _sections(b) for e in es}
    seen: dict[dt.date, tuple[str, int]] = {}
    problems: list[LoadError] = []
    for section, entries in _sections(body):
        for i, day in enumerate(entries):
            entry = f"calendar ({body.year}), {section}[{i + 1}] ({day.date.isoformat()})"
            found = []
            if day.date.year != body.year:
                found.append(problem("calendar_outside_year", year=body.year))
            if day.date in seen:
                first_section, first = seen[day.date]
                if first_section == section:
                    found.append(problem("duplicate_date", other=first + 1))
                else:
                    found.append(
                        problem("calendar_off_and_working", section=first_section, other=first + 1)
                    )
            seen.setdefault(day.date, (section, i))
            if day.date in elsewhere:
                found.append(problem("duplicate_in", other=elsewhere[day.date]))
            problems += [LoadError(file, entry, "date", text) for text in found]
    return problems


async def apply_calendar(session: AsyncSession, body: CalendarBody, now: dt.datetime) -> LoadCounts:
    """Store the document's days; days of the year it does not name stay as they were."""
    days = [
        CalendarDaySpec(e.date, section == "working_days", e.name, e.source or body.source)
        for section, entries in _sections(body)
        for e in entries
    ]
    return await upsert_calendar_days(session, days, now)

"""Calendar days from loaded `calendar` documents: upsert by date, list them all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CalendarDay
from storage.units import LoadCounts


@dataclass(frozen=True, slots=True)
class CalendarDaySpec:
    """One day as a calendar document sets it: off or worked, why, and on whose word."""

    day: date
    working: bool
    name: str
    source: str


async def upsert_calendar_days(
    session: AsyncSession, days: Sequence[CalendarDaySpec], now: datetime
) -> LoadCounts:
    """Add new days and update changed ones; stored days the document does not name are kept
    (a late swap comes as a small document of its own)."""
    counts = LoadCounts()
    existing = {
        row.day: row
        for row in await session.scalars(
            select(CalendarDay).where(CalendarDay.day.in_([d.day for d in days]))
        )
    }
    for spec in days:
        key = spec.day.isoformat()
        row = existing.get(spec.day)
        if row is None:
            session.add(
                CalendarDay(
                    day=spec.day,
                    working=spec.working,
                    name=spec.name,
                    source=spec.source,
                    loaded_at=now,
                )
            )
            counts.added.append(key)
        elif (row.working, row.name, row.source) != (spec.working, spec.name, spec.source):
            row.working, row.name, row.source, row.loaded_at = (
                spec.working,
                spec.name,
                spec.source,
                now,
            )
            counts.updated.append(key)
        else:
            counts.unchanged.append(key)
    await session.flush()
    return counts


async def calendar_days(session: AsyncSession) -> list[CalendarDay]:
    """Every stored calendar day, by date."""
    return list(await session.scalars(select(CalendarDay).order_by(CalendarDay.day)))

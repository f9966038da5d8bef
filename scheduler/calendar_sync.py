"""Make the pure working-day calendar follow the calendar documents stored in the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendar import CalendarOverride, set_overrides
from storage.calendar import calendar_days


async def install_calendar(session: AsyncSession) -> None:
    """Read the stored calendar days and install them as this process's overrides."""
    set_overrides(
        CalendarOverride(row.day, row.working, row.name, row.source)
        for row in await calendar_days(session)
    )

"""Working days in Viet Nam: weekends, public holidays (Lunar New Year included), swapped
Saturdays."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _vietnam() -> holidays.HolidayBase:
    # One calendar that grows by the years asked (expand=True); it knows the official
    # make-up Saturdays (weekend_workdays) as well as the days off.
    return holidays.country_holidays("VN")


def is_working_day(day: date) -> bool:
    """Whether offices work that day."""
    return bool(_vietnam().is_working_day(day))


def holiday_name(day: date) -> str | None:
    """The holiday's name (in English, as the library gives it), or None."""
    name = _vietnam().get(day)
    return None if name is None else str(name)


def working_days_between(start: date, end: date) -> int:
    """Working days d with start < d <= end (0 when end <= start): the working days left."""
    if end <= start:
        return 0
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def previous_working_day(day: date) -> date:
    """The day itself if offices work, else the closest working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def next_working_day(day: date) -> date:
    """The day itself if offices work, else the closest working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def quarter_of(day: date) -> int:
    """1 to 4."""
    return (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> date:
    """The first calendar day of a quarter."""
    return date(year, 3 * quarter - 2, 1)

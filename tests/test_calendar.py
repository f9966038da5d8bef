"""The Vietnamese working-day calendar."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.calendar import (
    is_working_day,
    next_working_day,
    previous_working_day,
    quarter_of,
    quarter_start,
    working_days_between,
)


def test_tet_2026_and_new_year_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 1, 1))  # Tết Dương lịch
    for day in range(16, 21):  # 29 Tết to mùng 4, Monday to Friday
        assert not is_working_day(date(2026, 2, day))
    assert is_working_day(date(2026, 2, 13)) and is_working_day(date(2026, 2, 23))


def test_first_working_day_of_2026_is_2_january() -> None:
    assert next_working_day(quarter_start(2026, 1)) == date(2026, 1, 2)
    assert next_working_day(quarter_start(2026, 2)) == date(2026, 4, 1)


def test_a_swapped_saturday_is_worked() -> None:
    assert is_working_day(date(2026, 8, 22))  # làm bù for 31/8
    assert not is_working_day(date(2026, 8, 31))


def test_working_days_across_tet() -> None:
    # Friday 13/2 → Tuesday 24/2/2026: Mon 23 and Tue 24 only.
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert previous_working_day(date(2026, 2, 20)) == date(2026, 2, 13)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 60))
def test_working_days_never_exceed_calendar_days(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    assert 0 <= working_days_between(start, end) <= span
    assert previous_working_day(end) <= end and is_working_day(previous_working_day(end))
    assert quarter_start(start.year, quarter_of(start)) <= start

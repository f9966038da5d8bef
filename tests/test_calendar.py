"""The Vietnamese working-day calendar: the holidays package, corrected by loaded overrides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.calendar import (
    CalendarOverride,
    is_working_day,
    next_working_day,
    package_source,
    previous_working_day,
    quarter_of,
    quarter_start,
    set_overrides,
    working_days_between,
    year_calendar,
)
from tests.support.calendar import CV_12729, SWAP_2026

DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
OVERRIDES = st.lists(
    st.builds(CalendarOverride, DAYS, st.booleans(), st.just("thử"), st.just("thử")),
    max_size=20,
)


def test_tet_2026_and_new_year_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 1, 1))  # Tết Dương lịch
    for day in range(16, 21):  # 29 Tết to mùng 4, Monday to Friday
        assert not is_working_day(date(2026, 2, day))
    assert is_working_day(date(2026, 2, 13)) and is_working_day(date(2026, 2, 23))


def test_the_swaps_the_package_must_know() -> None:
    """Why holidays>=0.106: the 2025 and 2026 swaps announced before it was released."""
    assert is_working_day(date(2025, 4, 26))  # Saturday, làm bù for 2/5
    assert not is_working_day(date(2025, 5, 2))
    assert is_working_day(date(2026, 8, 22))  # Saturday, làm bù for 31/8
    assert not is_working_day(date(2026, 8, 31))


def test_the_cv_12729_swap_of_january_2026() -> None:
    set_overrides(SWAP_2026)
    assert not is_working_day(date(2026, 1, 2))
    assert is_working_day(date(2026, 1, 10))
    # 2/1 to 15/1: Mon 5 to Fri 9, Sat 10, Mon 12 to Thu 15.
    assert working_days_between(date(2026, 1, 1), date(2026, 1, 15)) == 10
    assert working_days_between(date(2026, 1, 9), date(2026, 1, 10)) == 1
    assert next_working_day(date(2026, 1, 1)) == date(2026, 1, 5)
    assert next_working_day(quarter_start(2026, 1)) == date(2026, 1, 5)
    assert previous_working_day(date(2026, 1, 4)) == date(2025, 12, 31)
    assert next_working_day(quarter_start(2026, 2)) == date(2026, 4, 1)


def test_overrides_are_replaced_whole_and_the_cache_follows() -> None:
    friday, saturday = date(2026, 1, 2), date(2026, 1, 10)
    package = is_working_day(friday), is_working_day(saturday)  # now cached
    set_overrides(SWAP_2026)
    assert (is_working_day(friday), is_working_day(saturday)) == (False, True)
    set_overrides([SWAP_2026[1]])  # a new set replaces the old one entirely
    assert (is_working_day(friday), is_working_day(saturday)) == (package[0], True)
    set_overrides([])
    assert (is_working_day(friday), is_working_day(saturday)) == package


def test_year_calendar_lists_what_differs_from_the_plain_week_with_sources() -> None:
    set_overrides(
        (
            *SWAP_2026,
            # Pointless but accepted: a weekday declared worked, a Sunday declared off.
            CalendarOverride(date(2026, 1, 6), True, "Ngày thường", CV_12729),
            CalendarOverride(date(2026, 1, 11), False, "Chủ nhật", CV_12729),
        )
    )
    entries = year_calendar(2026)
    assert entries == sorted(entries, key=lambda e: e.day)
    by_day = {e.day: e for e in entries}
    assert by_day[date(2026, 1, 2)].working is False
    assert by_day[date(2026, 1, 2)].source == CV_12729
    assert by_day[date(2026, 1, 10)].working is True
    assert by_day[date(2026, 1, 10)].name == "Làm bù cho ngày 02/01/2026"
    assert by_day[date(2026, 1, 1)].source == package_source()
    assert by_day[date(2026, 1, 1)].name == "Tết Dương lịch"
    assert package_source().startswith("holidays 0.")
    assert date(2026, 1, 6) not in by_day and date(2026, 1, 11) not in by_day
    assert by_day[date(2026, 8, 22)].working and by_day[date(2026, 8, 22)].source.startswith(
        "holidays"
    )


@pytest.mark.parametrize("year", [2025, 2026])
def test_year_calendar_is_exactly_the_days_that_break_the_week(year: int) -> None:
    listed = {e.day: e for e in year_calendar(year)}
    day = date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        if day in listed:
            assert listed[day].working == weekend == is_working_day(day)
            assert listed[day].name or listed[day].working  # a day off always says why
        else:
            assert is_working_day(day) != weekend
        day += timedelta(days=1)


def test_working_days_across_tet() -> None:
    # Friday 13/2 → Tuesday 24/2/2026: Mon 23 and Tue 24 only.
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert previous_working_day(date(2026, 2, 20)) == date(2026, 2, 13)


@given(DAYS, st.integers(0, 60))
def test_working_days_never_exceed_calendar_days(start: date, span: int) -> None:
    end = start + timedelta(days=span)
    assert 0 <= working_days_between(start, end) <= span
    assert previous_working_day(end) <= end and is_working_day(previous_working_day(end))
    assert quarter_start(start.year, quarter_of(start)) <= start


@given(OVERRIDES, DAYS, st.integers(0, 40), st.integers(0, 40))
def test_working_days_between_adds_up_over_adjacent_ranges(
    overrides: list[CalendarOverride], start: date, first: int, second: int
) -> None:
    set_overrides(overrides)
    try:
        middle, end = start + timedelta(days=first), start + timedelta(days=first + second)
        assert working_days_between(start, end) == working_days_between(
            start, middle
        ) + working_days_between(middle, end)
        for override in overrides:  # the last one given for a day wins
            last = [o for o in overrides if o.day == override.day][-1]
            assert is_working_day(override.day) == last.working
    finally:
        set_overrides([])


@given(OVERRIDES, DAYS)
def test_previous_and_next_working_day_are_the_closest(
    overrides: list[CalendarOverride], day: date
) -> None:
    set_overrides(overrides)
    try:
        before, after = previous_working_day(day), next_working_day(day)
        assert before <= day <= after
        assert is_working_day(before) and is_working_day(after)
        assert working_days_between(before, day) == 0  # none in (before, day]
        assert working_days_between(day - timedelta(days=1), after - timedelta(days=1)) == 0
    finally:
        set_overrides([])

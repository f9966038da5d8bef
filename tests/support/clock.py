"""The deployment's time zone and the clock the sandboxed bot reads."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """The bot's clock in tests: real time until a test sets `now`."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)

    def set_local(self, text: str) -> None:
        """Stand on a local instant, e.g. "2026-02-10 09:00"."""
        self.now = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    """The clock the sandboxed bot reads."""
    return Clock()


def in_office_hours(moment: datetime) -> datetime:
    """`moment`, moved back by whole hours until it is between 07:00 and 20:00 in TZ.

    Tests that run on the real clock use it so that the scheduler's quiet hours (21:00 to
    07:00, nothing is pushed) never hold their pushes back, whatever hour CI runs at; the
    hour before 21:00 is left as margin for a slow test.
    """
    while not time(7) <= moment.astimezone(TZ).time() < time(20):
        moment -= timedelta(hours=1)
    return moment

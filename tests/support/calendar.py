"""The CV 12729/VPCP-KGVX swap of 2026 (Friday 2/1 off, Saturday 10/1 worked) as overrides
and as a calendar document; and no override left installed from one test to the next."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from scheduler.calendar import CalendarOverride, set_overrides

CV_12729 = "CV 12729/VPCP-KGVX ngày 25/12/2025"
# The swap the package may not know: Friday 2/1/2026 off, Saturday 10/1/2026 worked.
SWAP_2026 = (
    CalendarOverride(date(2026, 1, 2), False, "Nghỉ bù Tết Dương lịch", CV_12729),
    CalendarOverride(date(2026, 1, 10), True, "Làm bù cho ngày 02/01/2026", CV_12729),
)
# The same swap as the calendar document an operator loads (lich-2026.yaml).
SWAP = f"""\
calendar:
  year: 2026
  source: "{CV_12729}"
  days_off:
    - {{date: 2026-01-02, name: "Nghỉ bù Tết Dương lịch (hoán đổi với thứ Bảy 10/01/2026)"}}
  working_days:
    - {{date: 2026-01-10, name: "Làm bù cho ngày 02/01/2026"}}
"""


@pytest.fixture(autouse=True)
def plain_calendar() -> Iterator[None]:
    """Every test starts and ends on the package alone: whatever it installs (directly, by a
    tick or by the bot's start) does not leak into the next one."""
    set_overrides([])
    yield
    set_overrides([])

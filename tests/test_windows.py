"""The pure rules pulled out of the handlers: the campaign windows (storage.windows), where a
stray file's placement button leads (handlers.dossier.stray), which period a task's button
marks (handlers.tasks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from handlers.dossier.stray import Placement, parse_placement
from handlers.tasks import period_of
from messages.callbacks import pack
from storage.models import Plan, PlanTask, Repeat
from storage.windows import (
    dossier_open,
    dossier_recent,
    launched,
    recent,
    registration_open,
    under_review,
)


@dataclass
class Window:
    """The fields of a campaign the windows read."""

    launch_at: datetime
    end: date
    registration_deadline: date | None = None
    dossier_deadline: date | None = None


NOW = datetime(2025, 10, 20, 2, tzinfo=UTC)
TODAY = date(2025, 10, 20)


def test_a_window_is_open_through_its_deadline_day() -> None:
    campaign = Window(NOW, date(2025, 12, 31), TODAY, TODAY)
    assert registration_open(campaign, TODAY) and dossier_open(campaign, TODAY)
    tomorrow = TODAY + timedelta(days=1)
    assert not registration_open(campaign, tomorrow) and not dossier_open(campaign, tomorrow)
    none = Window(NOW, date(2025, 12, 31))
    assert not registration_open(none, TODAY) and not dossier_open(none, TODAY)


def test_launched_at_its_instant_and_listed_for_this_year_and_last() -> None:
    campaign = Window(NOW, date(2024, 1, 1), dossier_deadline=date(2024, 1, 1))
    assert launched(campaign, NOW) and not launched(campaign, NOW - timedelta(seconds=1))
    assert recent(campaign, TODAY) and under_review(campaign, TODAY)
    assert dossier_recent(campaign, TODAY)
    older = Window(NOW, date(2023, 12, 31), dossier_deadline=date(2023, 12, 31))
    assert not recent(older, TODAY) and not under_review(older, TODAY)
    assert not dossier_recent(older, TODAY)
    assert not under_review(Window(NOW, date(2025, 12, 31)), TODAY)  # no dossier at all


def test_placement_buttons_say_how_far_the_choice_has_got() -> None:
    assert parse_placement("pl:c:5:2") == Placement("c", 5, 2)
    assert parse_placement("pl:n:5:2:0") == Placement("n", 5, 2, None)
    assert parse_placement("pl:n:5:2:9") == Placement("n", 5, 2, 9)
    assert parse_placement("pl:d:5:2:9:0") == Placement("d", 5, 2, 9, None)
    assert parse_placement("pl:d:5:2:0:4") == Placement("d", 5, 2, None, 4)
    assert parse_placement("pl:c:5:2:1") == Placement("c", 5, 2, page=1)  # the slots' page 2
    for forged in ("pl:c:5", "pl:c:5:2:1:1", "pl:n:5:2", "pl:d:5:2:9", "pl:x:5:2", "pl:c:5:x"):
        assert parse_placement(forged) is None, forged
    assert parse_placement("np:c:5:2") is None and parse_placement(None) is None


@given(st.sampled_from("cnd"), st.lists(st.integers(0, 10**6), min_size=2, max_size=4))
def test_a_placement_reads_back_the_ids_its_buttons_carry(action: str, ids: list[int]) -> None:
    placement = parse_placement(pack("pl", action, *ids))
    if action == "c" and len(ids) == 3:  # a page of the slots of a campaign chosen
        assert placement == Placement("c", ids[0], ids[1], page=ids[2])
        return
    if len(ids) != {"c": 2, "n": 3, "d": 4}[action]:
        assert placement is None
        return
    assert placement is not None
    assert placement.ids()[: len(ids)] == tuple(ids[:3])


def test_a_task_button_marks_its_period_only() -> None:
    plan = Plan(year=2025)
    once = PlanTask(repeat=None)
    assert period_of(once, plan, None) == ""
    assert period_of(once, plan, date(2025, 3, 31)) is None
    monthly = PlanTask(repeat=Repeat.MONTHLY, repeat_day=25, repeat_month=None)
    assert period_of(monthly, plan, None) is None
    assert period_of(monthly, plan, date(2025, 3, 25)) == "2025-03-25"
    assert period_of(monthly, plan, date(2025, 3, 24)) is None

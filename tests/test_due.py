"""The due-computation: a pure function of facts and an instant (PRODUCT §7), walked over 2026."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.calendar import is_working_day, set_overrides
from scheduler.calendar_sync import install_calendar
from scheduler.due import Push, due_pushes, in_quiet_hours, next_due_at, planned_pushes
from scheduler.facts import AnnouncementFacts, CampaignFacts, DeadlineFacts, Snapshot, TaskFacts
from scheduler.snapshot import load_snapshot
from storage.db import Database
from tests.support.calendar import SWAP, SWAP_2026
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UNITS = ("HCTP", "TGPL", "VP")


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ)


CAMPAIGN = CampaignFacts(
    code="STP-LS-2026",
    launch_at=local("2026-01-15 08:00"),
    start=date(2026, 1, 1),
    end=date(2026, 12, 31),
    unit_codes=UNITS,
    registration_deadline=date(2026, 3, 15),  # a Sunday
    dossier_deadline=date(2026, 11, 30),
    registered=frozenset({"VP"}),
)
TASKS = (
    TaskFacts(2026, 1, 1, date(2026, 3, 31), UNITS, done=frozenset({"TGPL"})),
    TaskFacts(2026, 2, 1, date(2026, 3, 31), ("VP",)),
    TaskFacts(2026, 7, 2, date(2026, 6, 30), UNITS),
    TaskFacts(2026, 10, 3, date(2026, 9, 30), UNITS),
    TaskFacts(2026, 13, 4, date(2026, 12, 31), UNITS),
)
SNAPSHOT = Snapshot(tz=TZ, campaigns=(CAMPAIGN,), tasks=TASKS)


def kinds(pushes: list[Push], kind: str) -> list[Push]:
    return [p for p in pushes if p.kind == kind]


def test_quarterly_tasks_go_out_on_the_first_working_day() -> None:
    set_overrides(SWAP_2026)  # CV 12729/VPCP-KGVX: Friday 2/1 off, Saturday 10/1 worked
    try:
        year = planned_pushes(SNAPSHOT, date(2026, 1, 1), date(2026, 12, 31))
    finally:
        set_overrides([])
    days = sorted({p.at for p in kinds(year, "quarterly_tasks")})
    # 1 January is a holiday and 2 January a day off: Q1 goes out on Monday 5 January.
    assert [d.strftime("%Y-%m-%d %H:%M") for d in days] == [
        "2026-01-05 08:00",
        "2026-04-01 08:00",
        "2026-07-01 08:00",
        "2026-10-01 08:00",
    ]
    q1 = {p.unit: p.items for p in kinds(year, "quarterly_tasks") if p.at.month == 1}
    assert q1 == {"HCTP": ("1",), "TGPL": ("1",), "VP": ("1", "2")}


def test_reminders_move_off_weekends_and_merge_and_skip_who_is_done() -> None:
    march = planned_pushes(SNAPSHOT, date(2026, 3, 1), date(2026, 3, 15))
    registration = [p for p in kinds(march, "reminder") if p.deadline_kind == "registration"]
    # 7, 3, 1, 0 days before Sunday 15/3: Sun 8/3 → Fri 6/3; Thu 12/3; Sat 14/3 and Sun 15/3
    # → both Fri 13/3, sent as one.
    assert sorted({p.at.date().isoformat() for p in registration}) == [
        "2026-03-06",
        "2026-03-12",
        "2026-03-13",
    ]
    assert {p.unit for p in registration} == {"HCTP", "TGPL"}  # VP has registered
    assert len(registration) == 3 * 2
    assert all(is_working_day(p.at.date()) for p in march)


def test_reminders_skip_tet() -> None:
    tet = CampaignFacts(
        code="TET",
        launch_at=local("2026-01-05 08:00"),
        start=date(2026, 1, 1),
        end=date(2026, 6, 30),
        unit_codes=("HCTP",),
        dossier_deadline=date(2026, 2, 20),
        reminders=(7, 3, 0),
    )
    pushes = kinds(
        planned_pushes(Snapshot(tz=TZ, campaigns=(tet,)), date(2026, 2, 1), date(2026, 2, 28)),
        "reminder",
    )
    # 13/2 (7 days before), 17/2 and 20/2 fall in Tết → Friday 13/2: one push that day.
    assert [p.at.date().isoformat() for p in pushes] == ["2026-02-13"]


def test_overdue_digest_lists_the_missing_units_to_the_office() -> None:
    digest = [
        p
        for p in kinds(
            planned_pushes(SNAPSHOT, date(2026, 3, 16), date(2026, 3, 16)), "overdue_digest"
        )
        if p.deadline_kind == "registration"
    ]
    assert len(digest) == 1
    assert digest[0].unit is None and digest[0].items == ("HCTP", "TGPL")
    assert digest[0].at == datetime(2026, 3, 16, 8, 0)  # Monday after the Sunday deadline


def test_nothing_in_quiet_hours_and_late_sends_wait_for_seven() -> None:
    assert due_pushes(SNAPSHOT, local("2026-01-02 21:00")) == []
    assert due_pushes(SNAPSHOT, local("2026-01-03 06:59")) == []
    late = AnnouncementFacts(1, local("2026-05-04 23:30"), ("HCTP",))
    pushes = planned_pushes(
        Snapshot(tz=TZ, announcements=(late,)), date(2026, 5, 4), date(2026, 5, 5)
    )
    assert [p.at for p in pushes] == [datetime(2026, 5, 5, 7, 0)]
    assert due_pushes(Snapshot(tz=TZ, announcements=(late,)), local("2026-05-05 07:00"))


def test_catch_up_after_downtime_drops_stale_reminders() -> None:
    # Down from 1 March to Friday 20 March.
    due = due_pushes(SNAPSHOT, local("2026-03-20 09:00"))
    assert kinds(due, "quarterly_tasks") and kinds(due, "launch")
    assert not [p for p in kinds(due, "reminder") if p.deadline_kind == "registration"]
    assert [p.deadline_kind for p in kinds(due, "overdue_digest")] == ["registration"]
    # Back on 2 April: the Q1 list has no use any more, the Q2 list has.
    april = due_pushes(SNAPSHOT, local("2026-04-02 09:00"))
    assert {p.key.split(":")[1] for p in kinds(april, "quarterly_tasks")} == {"2026-Q2"}


def test_a_whole_year_of_ticks_sends_every_push_once() -> None:
    enqueued: set[str] = set()
    sent: list[Push] = []
    tick = local("2026-01-01 00:00")
    while tick.year == 2026:
        snapshot = Snapshot(tz=TZ, campaigns=(CAMPAIGN,), tasks=TASKS, enqueued=frozenset(enqueued))
        for push in due_pushes(snapshot, tick):
            assert push.key not in enqueued
            enqueued.add(push.key)
            sent.append(push)
        tick += timedelta(hours=1)
    assert all(is_working_day(p.at.date()) or p.kind in {"launch"} for p in sent)
    assert not any(in_quiet_hours(p.at.time()) for p in sent)
    assert len(kinds(sent, "quarterly_tasks")) == 4 * 3
    assert len(kinds(sent, "launch")) == 4  # 3 units and the office
    # Every planned push of the year went out, except none (all deadlines are in 2026).
    planned = {p.key for p in planned_pushes(SNAPSHOT, date(2026, 1, 1), date(2026, 12, 31))}
    assert planned == {p.key for p in sent}


def test_waking_only_at_next_due_at_sends_every_push_at_its_instant() -> None:
    """The scheduler's extra wake-up: jumping from one next_due_at to the next, with no
    minute ticks at all, still finds every push of the year, each exactly at its instant."""
    late = AnnouncementFacts(1, local("2026-05-04 23:30"), ("HCTP",))

    def snapshot(enqueued: dict[str, datetime]) -> Snapshot:
        return Snapshot(
            tz=TZ,
            campaigns=(CAMPAIGN,),
            tasks=TASKS,
            announcements=(late,),
            enqueued=frozenset(enqueued),
        )

    enqueued: dict[str, datetime] = {}
    at: datetime | None = local("2026-01-01 00:00")
    while at is not None and at.year == 2026:
        for push in due_pushes(snapshot(enqueued), at):
            assert push.key not in enqueued
            enqueued[push.key] = at.astimezone(TZ).replace(tzinfo=None)
        at = next_due_at(snapshot(enqueued), at)
    planned = planned_pushes(snapshot({}), date(2026, 1, 1), date(2026, 12, 31))
    assert {p.key for p in planned} == set(enqueued)
    assert all(enqueued[p.key] == p.at for p in planned)
    assert enqueued[f"announcement:{late.id}:HCTP"] == datetime(2026, 5, 5, 7, 0)


def test_next_due_at_is_strictly_later_and_none_when_nothing_is_left() -> None:
    at = local("2026-03-13 08:00")  # reminders of the 15 March deadline go out now
    following = next_due_at(SNAPSHOT, at)
    assert following is not None and following > at
    assert next_due_at(SNAPSHOT, local("2027-06-01 09:00")) is None


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59)))
@settings(max_examples=60, deadline=None)
def test_due_never_lists_an_enqueued_key_and_is_idempotent(naive: datetime) -> None:
    at = naive.replace(tzinfo=TZ)
    first = due_pushes(SNAPSHOT, at)
    again = due_pushes(
        Snapshot(
            tz=TZ, campaigns=(CAMPAIGN,), tasks=TASKS, enqueued=frozenset(p.key for p in first)
        ),
        at,
    )
    assert again == []
    assert all(p.at <= naive and not in_quiet_hours(at.time()) for p in first)
    assert len({p.key for p in first}) == len(first)


async def test_the_lang_son_plan_from_the_database(db: Database, tmp_path: Path) -> None:
    (tmp_path / "lich-2026.yaml").write_text(SWAP, encoding="utf-8")
    await load_files(
        db,
        EXAMPLES / "units-lang-son.yaml",
        EXAMPLES / "plan-2026-lang-son.yaml",
        EXAMPLES / "campaign-lang-son-2026.yaml",
        tmp_path / "lich-2026.yaml",
    )
    async with db.read() as session:
        await install_calendar(session)
        snapshot = await load_snapshot(session, TZ)
    try:
        q1 = [
            p
            for p in planned_pushes(snapshot, date(2026, 1, 1), date(2026, 1, 31))
            if p.kind == "quarterly_tasks"
        ]
    finally:
        set_overrides([])
    assert {p.at for p in q1} == {datetime(2026, 1, 5, 8, 0)}  # 2/1 is a day off (CV 12729)
    assert {p.unit for p in q1} >= {"VP", "HCTP", "TGPL"}
    first_launch = due_pushes(snapshot, datetime(2026, 1, 15, 1, 0, tzinfo=UTC))
    assert {p.unit for p in first_launch if p.kind == "launch"} >= {"HCTP", None}
    assert time(8, 0) == first_launch[0].at.time()


def test_after_downtime_only_the_latest_reminder_of_a_deadline_goes_out() -> None:
    due = due_pushes(SNAPSHOT, local("2026-03-12 09:00"))  # 6/3 was missed, 12/3 is today
    registration = [p for p in kinds(due, "reminder") if p.deadline_kind == "registration"]
    assert {p.at.date().isoformat() for p in registration} == {"2026-03-12"}
    later = Snapshot(
        tz=TZ, campaigns=(CAMPAIGN,), tasks=TASKS, enqueued=frozenset(p.key for p in due)
    )
    assert not [p for p in due_pushes(later, local("2026-03-12 15:00")) if p.kind == "reminder"]


def test_a_campaign_step_reminds_who_must_meet_it() -> None:
    """A step of the units: reminders to those not done and the office's digest; a step of
    the office: reminders to the office, no digest."""
    launched = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    campaign = CampaignFacts(
        code="TD",
        launch_at=launched,
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        unit_codes=("A", "B"),
        reminders=(3,),
        org="STP-LS",
        deadlines=(
            DeadlineFacts(
                "BC", date(2026, 6, 30), office=False, unit_codes=("A", "B"), done=frozenset({"B"})
            ),
            DeadlineFacts("TH", date(2026, 7, 10), office=True),
        ),
    )
    pushes = planned_pushes(
        Snapshot(tz=TZ, campaigns=(campaign,)), date(2026, 6, 1), date(2026, 7, 31)
    )
    steps = [(p.kind, p.unit, p.step, p.at.date()) for p in pushes if p.step]
    assert steps == [
        ("reminder", "A", "BC", date(2026, 6, 26)),  # 27/6 is a Saturday: the Friday before
        ("overdue_digest", None, "BC", date(2026, 7, 1)),
        ("reminder", None, "TH", date(2026, 7, 7)),
    ]


def test_dossiers_undecided_past_the_review_limit_reach_the_office() -> None:
    """Five working days from a complete dossier: the office hears of it the day after."""
    campaign = CampaignFacts(
        code="TD",
        launch_at=datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        start=date(2026, 1, 1),
        end=date(2026, 12, 31),
        unit_codes=("A", "B"),
        org="STP-LS",
        review_days=5,
        awaiting=(("A", date(2026, 3, 2)), ("B", date(2026, 3, 2))),
    )
    pushes = planned_pushes(
        Snapshot(tz=TZ, campaigns=(campaign,)), date(2026, 3, 1), date(2026, 3, 31)
    )
    (digest,) = [p for p in pushes if p.deadline_kind == "review"]
    assert digest.unit is None and digest.items == ("A", "B")
    assert digest.deadline == date(2026, 3, 9) and digest.at == datetime(2026, 3, 10, 8, 0)

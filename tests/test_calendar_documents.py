"""Calendar documents: loaded from YAML, stored, and followed by the scheduler, the bot and the
command line the same day (PRODUCT §6.1, §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.datafiles import apply, read_files
from bot.emulator.sandbox import Sandbox
from scheduler.calendar import is_working_day, next_working_day
from scheduler.calendar_sync import install_calendar
from scheduler.tick import Scheduler
from storage.db import Database
from storage.models import CalendarDay
from tests.support.calendar import CV_12729 as SOURCE
from tests.support.calendar import SWAP
from tests.support.cli import thiduabot
from tests.support.clock import TZ
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES

NOW = datetime(2025, 12, 25, 9, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str, name: str = "lich-2026.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(tmp_path: Path, text: str) -> list[str]:
    return [str(e) for e in read_files([write(tmp_path, text, "lich-sai.yaml")])[1]]


async def load(db: Database, *paths: Path) -> dict[str, list[str]]:
    load_set, errors = read_files(paths)
    assert not errors, [str(e) for e in errors]
    async with db.write() as session:
        report = await apply(session, load_set, TZ, NOW)
    c = report.calendars
    return {"added": c.added, "updated": c.updated, "unchanged": c.unchanged}


async def stored(db: Database) -> dict[date, tuple[bool, str, str]]:
    async with db.read() as session:
        rows = await session.scalars(select(CalendarDay))
        return {r.day: (r.working, r.name, r.source) for r in rows}


async def test_a_calendar_document_loads_and_twice_changes_nothing(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, SWAP)
    assert await load(db, path) == {
        "added": ["2026-01-02", "2026-01-10"],
        "updated": [],
        "unchanged": [],
    }
    assert await load(db, path) == {
        "added": [],
        "updated": [],
        "unchanged": ["2026-01-02", "2026-01-10"],
    }
    days = await stored(db)
    assert days[date(2026, 1, 2)][:1] == (False,) and days[date(2026, 1, 10)][0] is True
    assert {source for _, _, source in days.values()} == {SOURCE}
    async with db.read() as session:
        await install_calendar(session)
    assert not is_working_day(date(2026, 1, 2)) and is_working_day(date(2026, 1, 10))
    assert next_working_day(date(2026, 1, 1)) == date(2026, 1, 5)


async def test_a_later_small_document_keeps_the_other_days(db: Database, tmp_path: Path) -> None:
    await load(db, write(tmp_path, SWAP))
    late = write(
        tmp_path,
        "calendar:\n  year: 2026\n  source: QĐ thử\n  days_off:\n"
        "    - {date: 2026-12-31, name: Nghỉ thử, source: CV riêng}\n"
        "  working_days:\n    - {date: 2026-01-10, name: Làm bù (đã sửa tên)}\n",
        "lich-bo-sung.yaml",
    )
    assert await load(db, late) == {
        "added": ["2026-12-31"],
        "updated": ["2026-01-10"],
        "unchanged": [],
    }
    days = await stored(db)
    assert days[date(2026, 1, 2)] == (
        False,
        "Nghỉ bù Tết Dương lịch (hoán đổi với thứ Bảy 10/01/2026)",
        SOURCE,
    )
    assert days[date(2026, 1, 10)] == (True, "Làm bù (đã sửa tên)", "QĐ thử")
    assert days[date(2026, 12, 31)] == (False, "Nghỉ thử", "CV riêng")


def test_a_day_outside_the_year_is_refused_naming_file_entry_and_field(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, SWAP.replace("2026-01-10", "2027-01-09"))
    assert errors == [
        f"{tmp_path / 'lich-sai.yaml'}: calendar (2026), working_days[1] (2027-01-09), "
        "trường date: ngày phải nằm trong năm 2026 của lịch"
    ]


def test_a_day_both_off_and_working_is_refused(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, SWAP.replace("2026-01-10", "2026-01-02"))
    assert "lich-sai.yaml: calendar (2026), working_days[1] (2026-01-02), trường date" in error
    assert "days_off[1]" in error and "vừa nghỉ vừa làm việc" in error


def test_a_malformed_date_is_refused(tmp_path: Path) -> None:
    (error,) = errors_of(tmp_path, SWAP.replace("2026-01-02", "2026-02-30"))
    assert "lich-sai.yaml: calendar (2026), days_off[1], trường date:" in error
    assert "không phải ngày hợp lệ" in error


def test_duplicates_empty_names_and_a_missing_source_are_refused(tmp_path: Path) -> None:
    twice = SWAP.replace(
        "  working_days:", "    - {date: 2026-01-02, name: Lần nữa}\n  working_days:"
    )
    (error,) = errors_of(tmp_path, twice)
    assert "days_off[2] (2026-01-02), trường date: trùng ngày với mục thứ 1" in error
    (error,) = errors_of(tmp_path, SWAP.replace('name: "Làm bù cho ngày 02/01/2026"', 'name: " "'))
    assert "working_days[1], trường name: không được để trống" in error
    (error,) = errors_of(tmp_path, SWAP.replace(f'  source: "{SOURCE}"\n', ""))
    assert "calendar (2026), trường source: thiếu (bắt buộc)" in error
    (error,) = errors_of(tmp_path, SWAP.replace("days_off:", "ngay_nghi:"))
    assert "ngay_nghi" in error


def test_the_same_day_in_two_documents_of_one_load_is_refused(tmp_path: Path) -> None:
    first, second = write(tmp_path, SWAP, "a.yaml"), write(tmp_path, SWAP, "b.yaml")
    errors = [str(e) for e in read_files([first, second])[1]]
    assert len(errors) == 2 and all(e.startswith(f"{second}: calendar (2026)") for e in errors)
    assert all(f"đã có trong {first}" in e for e in errors)


def test_pointless_days_are_accepted(tmp_path: Path) -> None:
    # A day off that is a Sunday anyway, a working day that is a Monday anyway.
    text = SWAP.replace("2026-01-02", "2026-01-04").replace("2026-01-10", "2026-01-05")
    assert errors_of(tmp_path, text) == []


async def test_a_tick_follows_a_calendar_loaded_while_the_bot_runs(
    db: Database, tmp_path: Path
) -> None:
    await load_files(db, EXAMPLES / "units-lang-son.yaml", EXAMPLES / "plan-2026-lang-son.yaml")
    scheduler = Scheduler(db, TZ, lambda: datetime(2026, 1, 1, 9, 0, tzinfo=TZ))
    await scheduler.tick()
    before = scheduler.next_at  # the Q1 task lists, on the package's first working day
    assert before is not None and before.astimezone(TZ).date() < date(2026, 1, 5)
    await load(db, write(tmp_path, SWAP))
    await scheduler.tick()
    assert scheduler.next_at == datetime(2026, 1, 5, 8, 0, tzinfo=TZ)


async def test_the_bot_follows_the_stored_calendar_from_its_start(
    sqlite_url: str, tmp_path: Path
) -> None:
    box = Sandbox(database_url=sqlite_url, files_dir=tmp_path / "files")
    await box.db.migrate()
    await load(box.db, write(tmp_path, SWAP))
    async with box:
        assert not is_working_day(date(2026, 1, 2)) and is_working_day(date(2026, 1, 10))


async def test_the_calendar_command_shows_the_swap_with_its_source(tmp_path: Path) -> None:
    code, out, err = await thiduabot(tmp_path, "load", str(write(tmp_path, SWAP)))
    assert code == 0, err
    assert "Ngày nghỉ, ngày làm bù: thêm 2" in out and "cập nhật 0, không đổi 0." in out
    code, out, err = await thiduabot(tmp_path, "calendar", "2026")
    assert code == 0, err
    lines = out.splitlines()
    off = next(line for line in lines if line.startswith("02/01/2026"))
    worked = next(line for line in lines if line.startswith("10/01/2026"))
    assert "Thứ Sáu" in off and " nghỉ " in off and f"[{SOURCE}]" in off
    assert "Thứ Bảy" in worked and "làm việc" in worked and "Làm bù cho ngày 02/01/2026" in worked
    assert f"[{SOURCE}]" in worked
    new_year = next(line for line in lines if line.startswith("01/01/2026"))
    assert "Tết Dương lịch" in new_year and "[holidays " in new_year
    assert lines[-1].startswith("Năm 2026:") and "ngày cuối tuần phải đi làm" in lines[-1]
    dates = [line[:10] for line in lines[:-1]]
    assert dates == sorted(dates, key=lambda d: (d[6:], d[3:5], d[:2]))


@pytest.mark.parametrize("year", ["20x6", "1999", "2101", "-2026"])
async def test_a_bad_year_is_one_line_and_exit_2(tmp_path: Path, year: str) -> None:
    code, out, err = await thiduabot(tmp_path, "calendar", year)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f'Năm "{year}"' in err and "thiduabot calendar 2026" in err

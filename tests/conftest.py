"""Fixtures: a database on SQLite and on PostgreSQL, and the bot running against the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.datafiles import apply, read_files
from bot.sandbox import Sandbox
from scheduler.calendar import set_overrides
from scheduler.tick import Scheduler
from storage.db import Database
from storage.invites import create_invite
from storage.models import Announcement, Audience, Member, Role, Unit
from storage.units import unit_by_code

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# On a machine with PostgreSQL, .ci/run sets this; elsewhere the PostgreSQL variants skip.
PG_URL = os.environ.get("THIDUA_TEST_PG_URL")


# Bot processes a test started; whatever is still running when the test ends is killed, so
# a failing test leaves no `python -m bot run` behind.
_CHILDREN: list[asyncio.subprocess.Process] = []


def track_child(process: asyncio.subprocess.Process) -> asyncio.subprocess.Process:
    """Kill this process when the current test ends, if it has not ended by then."""
    _CHILDREN.append(process)
    return process


@pytest.fixture(autouse=True)
def _no_orphan_bots() -> Iterator[None]:
    yield
    while _CHILDREN:
        process = _CHILDREN.pop()
        if process.returncode is None:  # not reaped yet, so the pid is still this process
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


def in_office_hours(moment: datetime) -> datetime:
    """`moment`, moved back by whole hours until it is between 07:00 and 20:00 in TZ.

    Tests that run on the real clock use it so that the scheduler's quiet hours (21:00 to
    07:00, nothing is pushed) never hold their pushes back, whatever hour CI runs at; the
    hour before 21:00 is left as margin for a slow test.
    """
    while not time(7) <= moment.astimezone(TZ).time() < time(20):
        moment -= timedelta(hours=1)
    return moment


async def _reset_postgres(url: str) -> str | None:
    """Empty the test database; the reason it cannot be used, or None."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {dsn} unreachable: {exc}"
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: SQLite in a temporary folder, or the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/thidua.db"
    if not PG_URL:
        pytest.skip("THIDUA_TEST_PG_URL is not set: the PostgreSQL variant needs a server")
    reason = await _reset_postgres(PG_URL)
    if reason:
        pytest.skip(reason)
    return PG_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database, for tests that do not depend on the backend."""
    return f"sqlite+aiosqlite:///{tmp_path}/thidua.db"


async def load_files(db: Database, *paths: Path) -> None:
    """Load data files the way `thiduabot load` does."""
    load, errors = read_files(paths)
    assert not errors, [str(e) for e in errors]
    async with db.write() as session:
        await apply(session, load, TZ, datetime.now(UTC))


async def add_focal_points(db: Database, first_id: int, count: int, now: datetime) -> list[int]:
    """Focal points bound directly in the database, spread over the units; their chat ids."""
    async with db.write() as session:
        units = list(await session.scalars(select(Unit).order_by(Unit.id)))
        for i in range(count):
            session.add(
                Member(
                    telegram_user_id=first_id + i,
                    chat_id=first_id + i,
                    unit_id=units[i % len(units)].id,
                    role=Role.FOCAL,
                    full_name=f"Người {i}",
                    active=True,
                    joined_at=now,
                )
            )
    return list(range(first_id, first_id + count))


async def announce_to_all(db: Database, text: str, now: datetime) -> tuple[str, int]:
    """An announcement to every unit, due at `now`, turned into outbox rows by a tick at
    `now` (as an instance's tick would); its push key and how many rows it made.

    Tests whose bot then runs on the real clock pass an `in_office_hours` instant: in the
    quiet hours the bot's own tick would hold the announcement back until 07:00.
    """
    async with db.write() as session:
        announcement = Announcement(
            organization_id=1,
            text=text,
            audience=Audience.ALL,
            unit_ids=[],
            send_at=now,
            created_by=1,
            created_at=now,
        )
        session.add(announcement)
        await session.flush()
        push = f"announcement:{announcement.id}"
    return push, await Scheduler(db, TZ, lambda: now).tick()


async def issue_invite(
    db: Database, unit_code: str, role: Role, now: datetime | None = None
) -> str:
    """A fresh invite code for a unit."""
    async with db.write() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        invite = await create_invite(session, unit, role, now or datetime.now(UTC))
        return invite.code


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


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


@pytest.fixture
async def sandbox(database_url: str, tmp_path: Path, clock: Clock) -> AsyncIterator[Sandbox]:
    """The bot running against the Bot API emulator, with the Lạng Sơn units loaded."""
    box = Sandbox(database_url=database_url, files_dir=tmp_path / "files", clock=clock)
    await box.db.migrate()
    await load_files(box.db, EXAMPLES / "units-lang-son.yaml")
    async with box:
        yield box


@pytest.fixture(autouse=True)
def _plain_calendar() -> Iterator[None]:
    """No test leaves a loaded calendar document installed for the next one."""
    yield
    set_overrides([])

"""The SQLite driver: one job per statement in the connection's thread, DBAPI results intact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from storage import sqlite_driver
from storage.db import Database
from storage.models import Organization, Unit, UnitKind


@pytest.fixture
async def lite(sqlite_url: str) -> AsyncIterator[Database]:
    db = Database(sqlite_url)
    await db.migrate()
    async with db.write() as session:  # units belong to an organisation (id 1)
        session.add(Organization(code="STP", name="Sở Tư pháp"))
    yield db
    await db.dispose()


def _unit(code: str) -> Unit:
    return Unit(code=code, name=f"Đơn vị {code}", kind=UnitKind.PHONG, organization_id=1)


async def test_rows_rowcount_and_new_ids_come_back(lite: Database) -> None:
    async with lite.write() as session:
        session.add_all([_unit("A"), _unit("B"), _unit("C")])
        await session.flush()
        ids = sorted(u.id for u in await session.scalars(select(Unit)))
    assert len(ids) == 3 and all(isinstance(i, int) for i in ids)
    async with lite.write() as session:
        changed = await session.execute(
            update(Unit).where(Unit.code.in_(["A", "B"])).values(name="Đổi tên")
        )
        assert changed.rowcount == 2  # type: ignore[attr-defined]
    async with lite.read() as session:
        names = list(await session.scalars(select(Unit.name).order_by(Unit.code)))
        first = (await session.execute(select(Unit.code).order_by(Unit.code))).first()
        empty = (await session.execute(select(Unit.code).where(Unit.code == "Z"))).first()
    assert names == ["Đổi tên", "Đổi tên", "Đơn vị C"]
    assert first is not None and first.code == "A"
    assert empty is None


async def test_a_constraint_error_rolls_back_and_the_connection_stays_usable(
    lite: Database,
) -> None:
    async with lite.write() as session:
        session.add(_unit("A"))
    with pytest.raises(IntegrityError):
        async with lite.write() as session:
            session.add(_unit("B"))
            await session.flush()
            session.add(_unit("A"))  # the code is unique
    async with lite.read() as session:
        codes = list(await session.scalars(select(Unit.code)))
    assert codes == ["A"]  # B went with the failed transaction


async def test_many_parameter_sets_in_one_statement(lite: Database) -> None:
    async with lite.write() as session:
        await session.execute(
            text(
                "INSERT INTO units (code, name, kind, organization_id, created_at) "
                "VALUES (:code, :name, 'phong', 1, '2026-03-11 03:00:00.000000')"
            ),
            [{"code": f"U{i}", "name": f"Đơn vị {i}"} for i in range(50)],
        )
    async with lite.read() as session:
        assert await session.scalar(select(func.count()).select_from(Unit)) == 50


async def test_each_statement_is_one_job_for_the_thread(
    lite: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with lite.read() as session:  # the pool holds a connection: no connect below
        await session.execute(text("SELECT 1"))
    jobs: list[str] = []
    original = sqlite_driver.OneTripConnection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        jobs.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_driver.OneTripConnection, "_execute", counted)
    async with lite.read() as session:
        rows = (await session.execute(select(Unit.code, Unit.name))).all()
    assert rows == []
    # BEGIN, the SELECT, the rollback that ends a read and the pool's reset on return: four
    # jobs (aiosqlite's own cursors would make ten).
    assert jobs == ["_run", "_run", "rollback", "rollback"]


def test_the_arena_limit_is_harmless_to_ask_for_twice() -> None:
    first = sqlite_driver.limit_malloc_arenas()
    assert sqlite_driver.limit_malloc_arenas() == first


def test_only_sqlite_goes_through_the_driver() -> None:
    lite = Database("sqlite+aiosqlite:///:memory:").engine.dialect.dbapi
    assert lite.aiosqlite.__name__ == "aiosqlite_one_trip"
    assert Database("postgresql+asyncpg://u@127.0.0.1:1/x").engine.dialect.driver == "asyncpg"

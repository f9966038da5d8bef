"""An empty database on SQLite or on PostgreSQL, migrated, and data files loaded into it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from bot.datafiles import apply, read_files
from storage.db import Database, _alembic_config
from tests.support.clock import TZ


def _of_this_worker(url: str | None) -> str | None:
    """The database of this test process: with pytest-xdist each worker has its own (the
    given name with the worker's id: test_gw0, test_gw1), created on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_{worker}"


# On a machine with PostgreSQL, .ci/run sets this; elsewhere the PostgreSQL variants skip.
PG_URL = _of_this_worker(os.environ.get("THIDUA_TEST_PG_URL"))


# A migration from nothing costs about a second of CPU, a copy of a migrated database a few
# milliseconds: each test process migrates once, and every test starts from a copy of that
# (SQLite: the file; PostgreSQL: a database made from a migrated template). A migrate() the
# test then runs finds the schema current and does nothing.
_SQLITE_TEMPLATE: Path | None = None


def _migrated_sqlite() -> Path:
    global _SQLITE_TEMPLATE
    if _SQLITE_TEMPLATE is None:
        path = Path(tempfile.mkdtemp(prefix="thidua-template-")) / "template.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn, True), "head")
        engine.dispose()
        _SQLITE_TEMPLATE = path
    return _SQLITE_TEMPLATE


def migrated_sqlite_url(folder: Path) -> str:
    """A migrated SQLite database in `folder` (a copy of this process's template)."""
    target = folder / "thidua.db"
    shutil.copyfile(_migrated_sqlite(), target)
    return f"sqlite+aiosqlite:///{target}"


async def reset_postgres(url: str) -> str | None:
    """Empty the test database (creating it first if need be); the reason it cannot be
    used, or None."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
        except asyncpg.InvalidCatalogNameError:
            server, _, name = dsn.rpartition("/")
            admin = await asyncpg.connect(f"{server}/postgres", timeout=5)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:
                pass  # made meanwhile by another process
            finally:
                await admin.close()
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
    return await fresh_database_url(request.param, tmp_path)


async def fresh_database_url(backend: str, folder: Path) -> str:
    """An empty database of this backend ("sqlite": migrated, in `folder`; "postgresql": the
    server's, emptied; the test is skipped without one)."""
    if backend == "sqlite":
        return migrated_sqlite_url(folder)
    if not PG_URL:
        pytest.skip("THIDUA_TEST_PG_URL is not set: the PostgreSQL variant needs a server")
    reason = await reset_postgres(PG_URL)
    if reason:
        pytest.skip(reason)
    return PG_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database (migrated), for tests that do not depend on the backend."""
    return migrated_sqlite_url(tmp_path)


@pytest.fixture
async def lite_db(sqlite_url: str) -> AsyncIterator[Database]:
    """A migrated SQLite database, for tests whose subject does not depend on the backend."""
    database = Database(sqlite_url)
    await database.migrate()
    yield database
    await database.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def load_files(db: Database, *paths: Path) -> None:
    """Load data files the way `thiduabot load` does."""
    load, errors = read_files(paths)
    assert not errors, [str(e) for e in errors]
    async with db.write() as session:
        await apply(session, load, TZ, datetime.now(UTC))

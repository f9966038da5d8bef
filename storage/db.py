"""The engine, sessions and automatic migrations, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import locks, sqlite_driver

_MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 10
# How many write transactions the running task has open (a reply must not be sent in one).
_WRITING: ContextVar[int] = ContextVar("writing", default=0)


def in_write_transaction() -> bool:
    """Whether the running task is inside `Database.write()` (the bot checks it before every
    request to Telegram: a round trip must not hold the write lock)."""
    return _WRITING.get() > 0


def is_postgres(session: AsyncSession) -> bool:
    """True when the session talks to PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """INSERT for the session's dialect, with its ON CONFLICT clauses."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


def one_line(exc: BaseException) -> str:
    """The first line of an error (for a database error, the driver's own message rather than
    SQLAlchemy's wrapping), short enough for one log line or one line to an operator."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:300] if text else type(exc).__name__


class Database:
    """One database: an async engine, read and write sessions, and its migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # No SQL parameters in any log or error text: they hold names, titles and Telegram ids.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if self.is_sqlite:
            _ensure_parent_dir(self.url.database)
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
            kwargs["module"] = sqlite_driver.dbapi()
        else:
            kwargs["pool_pre_ping"] = True
        # Eight updates at once plus the delivery worker and the scheduler fit in the pool, so
        # a busy minute does not open and close connections (on SQLite each is also a thread).
        if not self.is_sqlite or (self.url.database or ":memory:") != ":memory:":
            kwargs.update(pool_size=POOL_SIZE, max_overflow=10)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        event.listen(self.engine.sync_engine, "handle_error", _without_values)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        # Writers start with BEGIN IMMEDIATE on SQLite: they queue on the busy timeout up front
        # instead of failing with "database is locked" when a read transaction tries to upgrade.
        self._writer = self.engine.execution_options(sqlite_immediate=True)
        self._identity: tuple[int, int] | None = None  # the file watched (see watch_file)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(self._writer, expire_on_commit=False)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading; nothing it does is committed."""
        async with self._read() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in one write transaction, committed on success, rolled back on error."""
        token = _WRITING.set(_WRITING.get() + 1)
        try:
            async with self._write() as session, session.begin():
                yield session
        finally:
            _WRITING.reset(token)

    async def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        async with self.engine.connect() as conn:
            await conn.run_sync(_upgrade, self.is_sqlite)
            await conn.commit()

    async def schema_is_current(self) -> bool:
        """Whether the schema is at the newest migration (False: none yet, or one is pending);
        only reads, so a dry run can refuse instead of migrating."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(_is_current, self.is_sqlite)

    @property
    def file_path(self) -> Path | None:
        """The SQLite database's file (None: PostgreSQL, or a database in memory)."""
        database = self.url.database if self.is_sqlite else None
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database).expanduser()

    def file_identity(self) -> tuple[int, int] | None:
        """The file's (device, inode) now; None when no file is there under its name."""
        path = self.file_path
        try:
            stat = os.stat(path) if path is not None else None
        except FileNotFoundError:
            return None
        return (stat.st_dev, stat.st_ino) if stat is not None else None

    def watch_file(self) -> None:
        """Remember which file the bot opened, to notice later if it was deleted or replaced
        (the open connections would go on writing into a file no name leads to)."""
        self._identity = self.file_identity()

    def file_lost(self) -> bool:
        """Whether the watched file is gone or another file now has its name (a stat: cheap)."""
        return self._identity is not None and self.file_identity() != self._identity

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


# asyncpg names a refused argument's value in its message ("query argument $2: 'Nguyễn…'").
_ARGUMENT_VALUE = re.compile(r"(query argument \$\d+): .*", re.DOTALL)


def loggable(exc: BaseException) -> str:
    """What a log may say of a failure: a database error's own words (its values already taken
    out, see _without_values), and of any other only its type, since its message may quote
    what someone typed (a name, a job title)."""
    if isinstance(exc, SQLAlchemyError):
        return one_line(exc)[:500]
    return type(exc).__name__


def _without_values(context: Any) -> None:
    """Take the data out of a database error before anyone logs it: PostgreSQL's DETAIL
    ("Key (telegram_user_id)=(…) already exists", "Failing row contains (…)") and asyncpg's
    quote of a refused argument. The message line, which names the constraint, stays."""
    pending = [context.sqlalchemy_exception, context.original_exception]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if getattr(error, "detail", None):
            error.detail = None
        if error.args and isinstance(error.args[0], str):
            error.args = (_ARGUMENT_VALUE.sub(r"\1: …", error.args[0]), *error.args[1:])
        pending += [getattr(error, "orig", None), error.__cause__, error.__context__]


def _ensure_parent_dir(database: str | None) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN (see _on_begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _alembic_config(connection: Connection, is_sqlite: bool) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["render_as_batch"] = is_sqlite
    return config


def _upgrade(connection: Connection, is_sqlite: bool) -> None:
    if not is_sqlite:
        # Two instances starting at once: the second waits, then finds nothing to do.
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": locks.MIGRATION})
    try:
        command.upgrade(_alembic_config(connection, is_sqlite), "head")
    finally:
        if not is_sqlite:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": locks.MIGRATION})


def _is_current(connection: Connection, is_sqlite: bool) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(connection, is_sqlite))
    current = MigrationContext.configure(connection).get_current_revision()
    return current is not None and current == script.get_current_head()

"""aiosqlite with one trip to its thread per statement instead of four.

SQLAlchemy's aiosqlite dialect opens a cursor, executes, fetches and closes the cursor, each a
separate job for aiosqlite's worker thread and a separate wake-up of the event loop (about
0.1 ms of the loop's time each; the update a focal point sends runs some twenty of them). Here
the cursor lives only inside the worker: one job executes the statement, reads every row,
notes rowcount, lastrowid and description, and closes the cursor; the adapter then serves the
rows from memory. Everything else (the connection, its thread, commit, rollback, errors) is
aiosqlite's own. Server-side cursors (`stream()`) are not offered: nothing here streams.
"""

from __future__ import annotations

import ctypes
import sqlite3
import types
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

_Outcome = tuple[list[Any], Any, int, int | None]

# glibc's mallopt(M_ARENA_MAX, n): how many malloc arenas threads may spread over.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


class OneTripCursor:
    """The async cursor SQLAlchemy's adapter drives; it holds the result of one statement."""

    __slots__ = ("_connection", "_rows", "arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._rows: list[Any] = []
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        """Run the statement and read its rows, in one job of the connection's thread."""
        outcome = await self._connection.run_statement(sql, parameters, many=False)
        self._rows, self.description, self.rowcount, self.lastrowid = outcome
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> OneTripCursor:
        """Run the statement once per parameter set, in one job."""
        outcome = await self._connection.run_statement(sql, parameters, many=True)
        self._rows, self.description, self.rowcount, self.lastrowid = outcome
        return self

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class _Ready:
    """What `Connection.cursor()` returns: awaitable and an async context manager, at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: OneTripCursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, OneTripCursor]:
        return self._cursor.__aenter__().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self._cursor.close()


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return rows, cursor.description, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection whose cursors make one trip to the thread per statement."""

    def cursor(self) -> _Ready:  # type: ignore[override]
        return _Ready(OneTripCursor(self))

    async def run_statement(self, sql: str, parameters: Any, *, many: bool) -> _Outcome:
        """Execute and fetch everything in the connection's thread."""
        outcome: _Outcome = await self._execute(  # type: ignore[no-untyped-call]
            _run, self._conn, sql, parameters, many
        )
        return outcome


def _connect(
    database: str | Path, *, iter_chunk_size: int = 64, **kwargs: Any
) -> OneTripConnection:
    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **kwargs)
        return connection

    return OneTripConnection(connector, iter_chunk_size)


def limit_malloc_arenas() -> bool:
    """Keep the memory of the connections' threads from spreading over many malloc arenas.

    Each connection works in its own thread, and glibc gives busy threads arenas of their own
    (up to eight per CPU) which, once fragmented, are never given back: in the week-long soak
    the process grew by about 30 MB after the first day with the default, and stayed flat
    with two arenas. Harmless elsewhere: without glibc this does nothing (returns False).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS))
    except (OSError, AttributeError):
        return False


def dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DBAPI module to give SQLAlchemy's aiosqlite dialect (`create_async_engine(module=)`)."""
    limit_malloc_arenas()
    module = types.ModuleType("aiosqlite_one_trip")
    module.__dict__.update({k: v for k, v in vars(aiosqlite).items() if not k.startswith("__")})
    module.connect = _connect  # type: ignore[attr-defined]
    return AsyncAdapt_aiosqlite_dbapi(module, sqlite3)

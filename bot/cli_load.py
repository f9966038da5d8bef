"""`thiduabot load`: every error of every file in one run, and nothing written unless there is
none. Documents that are right on their own are checked against the database (codes, what
needs `--replace`) even when other files have errors, in a transaction that is rolled back; a
first load is built in a database beside the real one and put in place whole."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.datafiles import LoadError, LoadRejected, LoadReport, LoadSet, apply, read_files
from messages import render_text
from storage.db import Database


def sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file DATABASE_URL names (None: PostgreSQL or in memory)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None
    return Path(str(url.database)).expanduser()


def _url_of(settings: Settings, database: Path) -> str:
    url = make_url(settings.database_url).set(database=str(database))
    return url.render_as_string(hide_password=False)


@contextmanager
def _aside(target: Path) -> Iterator[Path]:
    """A scratch database file beside `target` (or in the temporary folder when its folder does
    not exist yet), removed with its logs afterwards unless it was moved into place."""
    where = target.parent if target.parent.is_dir() else None
    with tempfile.TemporaryDirectory(dir=where, prefix=".thiduabot-load-") as tmp:
        yield Path(tmp) / target.name


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its online backup API; the bot may be writing)."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()


async def _apply(
    url: str, load: LoadSet, errors: list[LoadError], settings: Settings, replace: bool
) -> tuple[LoadReport | None, list[LoadError]]:
    """Migrate and write the load in one transaction: committed only when there is no error."""
    db = Database(url)
    report = None
    try:
        await db.migrate()
        try:
            async with db.write() as session:
                report = await apply(
                    session,
                    load,
                    settings.tz,
                    datetime.now(UTC),
                    replace=replace,
                    check_only=bool(errors),
                )
                if errors:  # only checked: rolled back
                    raise LoadRejected([])
        except LoadRejected as rejected:
            errors = [*errors, *rejected.errors]
        except SQLAlchemyError:
            if not errors:
                raise
            # Checking what is left of a load with errors met a conflict its errors explain.
    finally:
        await db.dispose()
    return report, errors


async def _load_into(
    settings: Settings, load: LoadSet, errors: list[LoadError], replace: bool
) -> tuple[LoadReport | None, list[LoadError]]:
    target = sqlite_file(settings)
    checking = bool(errors)
    if target is None:  # PostgreSQL: its schema upgraded as any start of the bot does
        return await _apply(settings.database_url, load, errors, settings, replace)
    if target.exists() and not checking:
        return await _apply(settings.database_url, load, errors, settings, replace)
    if target.exists():
        probe = Database(settings.database_url)
        try:
            current = await probe.schema_is_current()
        finally:
            await probe.dispose()
        if current:
            return await _apply(settings.database_url, load, errors, settings, replace)
    with _aside(target) as scratch:
        if target.exists():  # a schema to upgrade: checked on a copy, the real one untouched
            _copy(target, scratch)
        report, errors = await _apply(_url_of(settings, scratch), load, errors, settings, replace)
        if not errors:  # a first load, complete: put in place whole
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(scratch, target)
    return report, errors


def _in_order(errors: list[LoadError], files: list[Path]) -> list[LoadError]:
    """Each file's errors together, in the order the files were given."""
    order = {str(path): i for i, path in reversed(list(enumerate(files)))}
    return sorted(errors, key=lambda e: order.get(e.file, len(order)))


async def load_command(settings: Settings, files: list[Path], replace: bool = False) -> int:
    """Read, check and write; every error printed once, one line each."""
    load, errors = read_files(files)
    documents = [load.units, load.plans, load.campaigns, load.results, load.calendars, load.rules]
    report = None
    if any(documents):
        report, errors = await _load_into(settings, load, errors, replace)
    if errors or report is None:
        for error in _in_order(errors, files):
            print(error, file=sys.stderr)
        print(render_text("cli/load_failed", count=len(errors)), file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(render_text("cli/load_warning", warning=warning), file=sys.stderr)
    print(render_text("cli/load_done", report=report))
    return 0

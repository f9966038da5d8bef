"""Earlier years' titles and awards from the office's workbook, resolved against the database
and stored (PRODUCT §11), and two spellings of one person merged: what `thiduabot history`
and `thiduabot people merge` do.

Every bad row is reported, the good ones stored: a workbook loaded twice adds nothing.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_checks import CliError, read_only_database, reason
from bot.cli_load import sqlite_file
from bot.config import Settings
from messages import render_text
from messages.exports.history_workbook import (
    HistoryReading,
    HistoryWorkbookError,
    RowError,
    read_history_workbook,
)
from storage.db import Database
from storage.history import PastAwardRow, history_of, merge_people, store_past_awards
from storage.models import Target, Unit
from storage.text import fold
from storage.units import all_units


@dataclass(frozen=True, slots=True)
class HistoryLoad:
    """What loading a workbook did: rows right and stored (new or there already), and the
    errors of the others, by row."""

    good: int
    added: int
    errors: tuple[RowError, ...]

    @property
    def already(self) -> int:
        """Good rows that were stored before (or twice in the workbook): nothing added."""
        return self.good - self.added


@dataclass(frozen=True, slots=True)
class Merged:
    """What `people merge` did: whether anything changed, and how many titles or awards the
    old spelling had that now count for the right one."""

    unit: Unit
    changed: bool
    entries: int


def resolve(
    reading: HistoryReading, units: Sequence[Unit], source: str
) -> tuple[list[PastAwardRow], list[RowError]]:
    """Each row's unit found within the organisation (by code, or by name compared folded),
    and whether it is a person or the collective; the rows ready to store, and the errors of
    the others (those of the reading included), by row."""
    by_code = {u.code.upper(): u for u in units}
    by_name: dict[str, list[Unit]] = defaultdict(list)
    for each in units:
        by_name[fold(each.name)].append(each)
    rows: list[PastAwardRow] = []
    errors = list(reading.errors)
    for row in reading.rows:
        unit: Unit | None
        if row.unit_code:
            unit = by_code.get(row.unit_code.upper())
            if unit is None:
                errors.append(RowError(row.row, "unknown_code", row.unit_code[:60]))
                continue
        else:
            named = by_name.get(fold(row.unit_name), [])
            if len(named) > 1:
                errors.append(RowError(row.row, "ambiguous_name", row.unit_name[:100]))
                continue
            # A unit's code written in the name column is the unit too.
            unit = named[0] if named else by_code.get(row.unit_name.upper())
            if unit is None:
                errors.append(RowError(row.row, "unknown_name", row.unit_name[:100]))
                continue
        if row.target is not None:
            target = Target(row.target)
        elif fold(row.name) == fold(unit.name):
            target = Target.TAP_THE
        else:
            target = Target.CA_NHAN
        rows.append(
            PastAwardRow(
                unit_id=unit.id,
                target=target,
                name=row.name,
                year=row.year,
                award=row.award,
                decision=row.decision,
                decided_by=row.decided_by,
                source=f"{source}:{row.row}",
            )
        )
    errors.sort(key=lambda e: e.row)
    return rows, errors


async def load_history(
    session: AsyncSession, organization_id: int, reading: HistoryReading, source: str
) -> HistoryLoad:
    """Resolve a workbook's rows within the organisation and store the good ones."""
    units = await all_units(session, organization_id)
    rows, errors = resolve(reading, units, source)
    added = await store_past_awards(session, organization_id, rows)
    return HistoryLoad(good=len(rows), added=added, errors=tuple(errors))


async def merge_spellings(
    session: AsyncSession,
    organization_id: int,
    unit_code: str,
    spelling: str,
    into: str,
    now: datetime,
) -> Merged:
    """Read `spelling` of the unit as `into` from now on (storage.history.merge_people);
    an unknown unit or an empty name is a CliError."""
    if not spelling.strip() or not into.strip():
        raise CliError(render_text("cli/people_merge_empty"))
    units = await all_units(session, organization_id)
    unit = next((u for u in units if u.code.upper() == unit_code.upper()), None)
    if unit is None:
        raise CliError(render_text("cli/unknown_unit", code=unit_code))
    before = await history_of(session, organization_id, unit.id, spelling, now)
    entries = len(before.entries) if before is not None else 0
    changed = await merge_people(session, unit.id, spelling, into)
    return Merged(unit, changed, entries)


# ---------------------------------------------------------------------------
# For the command line: the file and the database, each mistake one line


async def read_workbook_file(path: Path, this_year: int) -> HistoryReading:
    """The workbook at `path`, read; a missing file, a folder, or a file that is not the
    office's workbook is a CliError."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise CliError(render_text("cli/path_error", path=path, reason=reason(exc))) from None
    try:
        return await asyncio.to_thread(read_history_workbook, data, this_year)
    except HistoryWorkbookError as error:
        raise CliError(
            render_text("cli/history_file_error", path=path, reason=error.reason)
        ) from None


async def current_database(settings: Settings) -> Database:
    """The database, if it exists with the newest schema: these commands write into what
    `thiduabot load` made, never create or upgrade it (a CliError instead)."""
    database = sqlite_file(settings)
    said = render_text("cli/history_no_database", path=database or "")
    db = await read_only_database(settings, database, behind=said)
    if db is None:
        raise CliError(said)
    return db

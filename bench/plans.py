"""Query plans of the statements the code really emits behind /hoso, the due-computation's
snapshot and the outbox claim: captured while the functions run, then EXPLAINed."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.seed import BENCH_NOW, TZ, Seeded
from scheduler.snapshot import HORIZON, load_snapshot
from storage import outbox
from storage.campaigns import launched_campaigns_of_unit
from storage.db import Database
from storage.dossier_status import dossier_status


@dataclass(slots=True)
class Statement:
    """One distinct SQL text, how often the captured call ran it, and its plan."""

    sql: str
    params: Any
    runs: int = 1
    plan: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)  # tables read whole
    index_scans: list[str] = field(default_factory=list)  # indexes read whole
    notes: list[str] = field(default_factory=list)  # temp B-trees, sorts


@dataclass(slots=True)
class PlanGroup:
    """The statements of one code path on one backend."""

    title: str
    backend: str
    statements: list[Statement]


# Tables that grow with use, year after year: none of them may be read whole by /hoso, a
# tick or a claim. The others (units, campaigns, plans, council results) hold a few hundred
# rows at most, and the due-computation needs all of them anyway.
GROWING = frozenset(
    {
        "uploads",
        "outbox",
        "nominees",
        "registrations",
        "registered_individuals",
        "members",
        "task_progress",
        "task_units",
        "announcements",
        "result_items",
        "processed_updates",
        "stored_files",
        "invites",
        "campaign_units",
        "code_attempts",
    }
)

_SQLITE_SCAN = re.compile(r"\bSCAN (\w+)(?: AS \w+)?(.*)$")
_PG_SEQ = re.compile(r"Seq Scan on (\w+)")
_IN_LIST = re.compile(r"IN \((?:\?|\$\d+|__\[POSTCOMPILE_\w+\])(?:, ?(?:\?|\$\d+))*\)")


def compact(sql: str) -> str:
    """The SQL on one line with its column lists folded, for reading."""
    one = " ".join(sql.split())
    one = re.sub(
        r"SELECT (DISTINCT )?(.+?) FROM", lambda m: f"SELECT {m.group(1) or ''}… FROM", one, count=1
    )
    return _IN_LIST.sub("IN (…)", one)


async def _capture(
    db: Database, call: Callable[[AsyncSession], Awaitable[object]], *, rollback: bool = False
) -> list[Statement]:
    found: dict[str, Statement] = {}

    def listen(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            return
        # IN lists of different lengths are one statement for the reader.
        key = _IN_LIST.sub("IN (…)", statement)
        if key in found:
            found[key].runs += 1
        else:
            found[key] = Statement(statement, params)

    event.listen(db.engine.sync_engine, "before_cursor_execute", listen)
    try:
        if rollback:
            async with db.engine.connect() as conn:
                session = AsyncSession(bind=conn)
                async with conn.begin() as trans:
                    await call(session)
                    await trans.rollback()
                await session.close()
        else:
            async with db.read() as session:
                await call(session)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listen)
    return list(found.values())


async def _explain(db: Database, statements: list[Statement]) -> None:
    async with db.engine.connect() as conn:
        for st in statements:
            if db.is_sqlite:
                rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + st.sql, st.params)).all()
                st.plan = [str(r[-1]) for r in rows]
                for line in st.plan:
                    match = _SQLITE_SCAN.search(line)
                    if match and "CONSTANT ROW" not in line:  # a literal row, not a table
                        # Any SCAN visits every row: plainly, in an index's order, or
                        # through a covering index (still the whole index).
                        table, rest = match.group(1), match.group(2)
                        st.scans.append(table)
                        if rest.strip():
                            st.index_scans.append(f"{table}{rest}")
                    if "TEMP B-TREE" in line:
                        st.notes.append(line.strip())
            else:
                # Seq scans off: a small table is scanned because that is cheaper, which says
                # nothing about growth; what remains a Seq Scan has no index that could serve.
                await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                rows = (await conn.exec_driver_sql("EXPLAIN " + st.sql, st.params)).all()
                st.plan = [str(r[0]) for r in rows]
                for line in st.plan:
                    match = _PG_SEQ.search(line)
                    if match:
                        st.scans.append(match.group(1))
                    if "Sort" in line and "Sort Key" not in line:
                        st.notes.append(line.strip())
            await conn.rollback()


async def collect(db: Database, seeded: Seeded) -> list[PlanGroup]:
    """Capture and explain: /hoso of a unit with a full dossier, load_snapshot, claim."""
    backend = "SQLite" if db.is_sqlite else "PostgreSQL"
    unit_id = seeded.full_dossier_units[0]

    async def hoso(session: AsyncSession) -> None:
        campaigns = await launched_campaigns_of_unit(session, unit_id, BENCH_NOW)
        for campaign in campaigns:
            if campaign.id in seeded.open_campaign_ids:
                await dossier_status(session, campaign, unit_id)

    async def snapshot(session: AsyncSession) -> None:
        await load_snapshot(session, TZ, since=BENCH_NOW - HORIZON)  # as the tick does

    async def claim(session: AsyncSession) -> None:
        await outbox.claim(session, BENCH_NOW, 100)

    groups = []
    for title, call, rollback in (
        ("/hoso: launched campaigns + storage.dossier_status.dossier_status", hoso, False),
        ("due-computation: scheduler.snapshot.load_snapshot (one tick)", snapshot, False),
        ("outbox: storage.outbox.claim(limit=100)", claim, True),
    ):
        statements = await _capture(db, call, rollback=rollback)
        await _explain(db, statements)
        groups.append(PlanGroup(title, backend, statements))
    return groups


async def row_counts(db: Database, tables: set[str]) -> dict[str, int]:
    """Rows in each named table."""
    counts = {}
    async with db.read() as session:
        for table in sorted(tables):
            counts[table] = int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    return counts


def render(groups: list[PlanGroup], counts: dict[str, dict[str, int]]) -> list[str]:
    """The plans as text, whole-table scans flagged with the table's size."""
    lines = []
    for group in groups:
        lines.append(f"== {group.backend}: {group.title}")
        for st in group.statements:
            flag = ""
            if st.scans:
                sizes = ", ".join(
                    f"{t} ({counts[group.backend].get(t, '?')} rows)"
                    for t in dict.fromkeys(st.scans)
                )
                growing = any(t in GROWING for t in st.scans)
                flag = f"   <-- {'WHOLE-TABLE SCAN' if growing else 'reads whole (small)'}: {sizes}"
            lines.append(f"-- x{st.runs}  {compact(st.sql)[:230]}{flag}")
            lines += [f"     {p}" for p in st.plan]
        lines.append("")
    return lines


def scanned_tables(groups: list[PlanGroup]) -> set[str]:
    """Every table some plan reads whole."""
    return {t for g in groups for st in g.statements for t in st.scans}


def growing_scans(groups: list[PlanGroup]) -> set[str]:
    """The growing tables some plan reads whole: each one is a defect."""
    return scanned_tables(groups) & GROWING

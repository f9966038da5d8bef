"""`python -m bench.run`: every benchmark of ThiĐua bot in one run, one table of figures
against the targets of issue 9, then the query plans.

    python -m bench.run                      # SQLite; PostgreSQL parts skipped
    python -m bench.run --pg postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    python -m bench.run --quick              # a small province, a short soak: a smoke run

--pg names a database the benchmark may empty: its schema `public` is dropped first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench import burst, conversations, delivery, interactive, memory, plans, soak
from bench.seed import BenchClock, Scale, Seeded, analyze, seed, settle_history
from scheduler.tick import Scheduler
from storage.db import Database

TZ_NAME = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the table."""

    measure: str
    figure: str
    target: str = ""
    met: bool | None = None

    def cells(self) -> list[str]:
        mark = "" if self.met is None else ("yes" if self.met else "NO")
        return [self.measure, self.figure, self.target, mark]


def table(rows: list[Row]) -> str:
    """A plain-text table (also valid Markdown)."""
    header = ["Measure", "Figure", "Target", "Met"]
    cells = [header, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(4)]

    def line(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, cells[1:])])


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _seeded(url: str, files_dir: Path, scale: Scale) -> tuple[Seeded, float]:
    """A migrated database filled with the province, its history settled; (seeded, tick s)."""
    db = Database(url)
    await db.migrate()
    try:
        seeded = await seed(db, files_dir, scale)
        _rows, tick_seconds = await settle_history(
            db, Scheduler(db, interactive_tz(), BenchClock()).tick
        )
        await analyze(db)
    finally:
        await db.dispose()
    return seeded, tick_seconds


def interactive_tz() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(TZ_NAME)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    scale = Scale.quick() if args.quick else Scale()
    users, per_user, single = (5, 6, 20) if args.quick else (20, 25, 200)
    figures: dict[str, Any] = {"date": date.today().isoformat(), "scale": asdict(scale)}
    rows: list[Row] = []
    plan_groups: list[plans.PlanGroup] = []
    counts: dict[str, dict[str, int]] = {}

    with tempfile.TemporaryDirectory(prefix="thidua-bench-") as tmp:
        work = Path(tmp)
        url = f"sqlite+aiosqlite:///{work}/bench.db"
        files_dir = work / "files"
        progress(f"seeding SQLite: {scale.units} units, {scale.uploads} documents …")
        seeded, catch_up = await _seeded(url, files_dir, scale)
        # The soak starts from the province as seeded, not as the other scenarios left it.
        soak_url = f"sqlite+aiosqlite:///{work}/soak.db"
        shutil.copyfile(work / "bench.db", work / "soak.db")
        memory_url = f"sqlite+aiosqlite:///{work}/memory.db"
        shutil.copyfile(work / "bench.db", work / "memory.db")
        due_url = f"sqlite+aiosqlite:///{work}/due.db"
        shutil.copyfile(work / "bench.db", work / "due.db")
        # The send budget's scenarios, each on the province as seeded (fresh invites).
        budget_urls = {}
        for name in ("burst", "during", "fair"):
            shutil.copyfile(work / "bench.db", work / f"{name}.db")
            budget_urls[name] = f"sqlite+aiosqlite:///{work}/{name}.db"
        figures["seeded"] = seeded.counts
        progress(f"seeded in {seeded.seconds:.1f} s; catch-up tick {catch_up:.2f} s")

        db = Database(url)
        plan_groups += await plans.collect(db, seeded)
        counts["SQLite"] = await plans.row_counts(
            db, plans.scanned_tables(plan_groups) | {"uploads", "outbox", "nominees", "members"}
        )
        await db.dispose()

        if args.pg:
            progress("seeding PostgreSQL …")
            await _reset_postgres(args.pg)
            pg_seeded, _ = await _seeded(args.pg, work / "pg-files", scale)
            pg = Database(args.pg)
            pg_groups = await plans.collect(pg, pg_seeded)
            counts["PostgreSQL"] = await plans.row_counts(
                pg, plans.scanned_tables(pg_groups) | {"uploads", "outbox", "nominees", "members"}
            )
            await pg.dispose()
            plan_groups += pg_groups

        progress("bare python-telegram-bot echo …")
        echo, echo_alone = await interactive.run_echo(users, per_user, single)
        progress("our bot: /hoso, button, upload, /start …")
        ours = await interactive.run_bot(
            url, files_dir, BenchClock(), seeded, users, per_user, single
        )
        hoso, hoso_alone = ours["hoso"], ours["hoso_1"]
        ratio = hoso.rate / echo.rate if echo.rate else 0.0
        rows.append(Row(f"bare PTB echo, {users} users at once", _rate(echo)))
        rows.append(Row("bare PTB echo, 1 user", _rate(echo_alone)))
        for key, label in (
            ("hoso", "/hoso"),
            ("start", "/start CODE"),
            ("button", "button press (/nhiemvu)"),
            ("upload", "upload (PDF)"),
        ):
            m = ours[key]
            rows.append(Row(f"{label}, {users} users at once", _rate(m), met=None))
        rows.append(Row("/hoso, 1 user", _rate(hoso_alone), "p95 < 50 ms", hoso_alone.pct(95) < 50))
        rows.append(
            Row("/hoso throughput ÷ echo throughput", f"{ratio:.0%}", "≥ 50%", ratio >= 0.5)
        )
        # The same loaded traffic against each bot as its own process (bench/cpu.py).
        echo_cpu, hoso_cpu = echo.cpu_ms_per_update or 0.0, hoso.cpu_ms_per_update or 0.0
        cpu_ratio = echo_cpu / hoso_cpu if hoso_cpu else 0.0
        rows.append(
            Row(
                "CPU per update, each bot as its own process",
                f"bare PTB echo {echo_cpu:.2f} ms, /hoso {hoso_cpu:.2f} ms",
            )
        )
        rows.append(
            Row(
                "echo CPU ÷ /hoso CPU per update (same run)",
                f"{cpu_ratio:.0%}",
                "≥ 50%",
                cpu_ratio >= 0.5,
            )
        )
        checks = [f"{k}: {m.check}" for k, m in {**ours, "echo": echo}.items() if m.check]
        errors = sum(m.errors for m in (*ours.values(), echo))
        figures["interactive"] = {k: m.as_json() for k, m in ours.items()}
        figures["echo"] = {"loaded": echo.as_json(), "alone": echo_alone.as_json()}

        progress("due instant → request, the scheduler running on its own …")
        due = await delivery.due_to_send(due_url, files_dir, seeded)
        rows.append(
            Row(
                f"due instant → request ({due.pushes} pushes)",
                f"p50 {due.pct(50) * 1000:.0f} ms, p95 {due.pct(95) * 1000:.0f} ms, "
                f"max {max(due.delays) * 1000:.0f} ms",
                "p95 < 2 s",
                due.pct(95) < 2,
            )
        )
        rows.append(Row("one scheduler tick on the province", f"{due.tick_seconds * 1000:.0f} ms"))
        figures["due_to_send"] = delivery.summary(due.delays) | {"tick_ms": due.tick_seconds * 1000}

        progress("broadcast of 1,000 under Telegram's limits …")
        bc = await delivery.broadcast(work, 200 if args.quick else 1_000)
        rows.append(
            Row(
                f"broadcast of {bc.recipients}",
                f"{bc.rate:.2f}/s = {bc.fraction:.1%} of the {bc.cap:.0f}/s cap, "
                f"{bc.flood_429} × 429, {bc.delivered_once} delivered once, "
                f"{bc.duplicates} twice",
                "≥ 90% of cap, no 429",
                bc.fraction >= 0.9 and bc.flood_429 == 0,
            )
        )
        figures["broadcast"] = asdict(bc) | {"fraction": bc.fraction}

        progress("the send budget: a burst of /start, replies during a broadcast, fairness …")
        rows += await _budget_rows(budget_urls, files_dir, seeded, figures, quick=args.quick)

        progress("outbox claim-and-mark …")
        outbox_rows = 2_000 if args.quick else 10_000
        lite = await delivery.outbox_throughput(
            f"sqlite+aiosqlite:///{work}/outbox.db", outbox_rows
        )
        rows.append(Row("outbox claim + grouped marks, SQLite", f"{lite.rate:,.0f} rows/s"))
        figures["outbox"] = {"SQLite": lite.rate}
        if args.pg:
            await _reset_postgres(args.pg)
            pgo = await delivery.outbox_throughput(args.pg, outbox_rows, workers=8)
            rows.append(
                Row(
                    f"outbox claim + grouped marks, PostgreSQL ({pgo.workers} workers)",
                    f"{pgo.rate:,.0f} rows/s",
                    "≥ 1,000 rows/s",
                    pgo.rate >= 1000,
                )
            )
            figures["outbox"]["PostgreSQL"] = pgo.rate
        else:
            rows.append(
                Row(
                    "outbox claim + grouped marks, PostgreSQL",
                    "not run (no --pg)",
                    "≥ 1,000 rows/s",
                )
            )

        progress("conversation steps in the database …")
        steps = 500 if args.quick else 2_000
        costs = {"SQLite": await conversations.step_cost(f"sqlite+aiosqlite:///{work}/c.db", steps)}
        if args.pg:
            await _reset_postgres(args.pg)
            costs["PostgreSQL"] = await conversations.step_cost(args.pg, steps)
        for backend, cost in costs.items():
            rows.append(
                Row(
                    f"conversation steps kept in the database, {backend}, per update",
                    # (below the noise, a difference of two timings can come out negative)
                    f"+{max(cost.idle_ms, 0):.2f} ms outside a conversation, "
                    f"+{max(cost.moving_ms, 0):.2f} ms when the step changes",
                )
            )
        figures["conversation_steps"] = {b: asdict(c) for b, c in costs.items()}

        progress("the bot as its own process: peak memory …")
        bot_mem = await memory.bot_memory(memory_url, files_dir, seeded, users=users)
        rows.append(
            Row(
                f"peak memory of the bot process ({bot_mem.updates} updates, "
                f"a broadcast of {bot_mem.pushed})",
                f"{bot_mem.peak_mb:.0f} MB peak (VmHWM), {bot_mem.final_mb:.0f} MB at the end",
                "< 200 MB",
                bot_mem.peak_mb < 200,
            )
        )
        figures["bot_memory"] = asdict(bot_mem)
        peak = soak.peak_rss_mb()
        days = args.soak_days if args.soak_days is not None else (1 if args.quick else 7)
        soaked: soak.Soak | None = None
        if days:
            progress(f"soak: {days} simulated days …")
            soaked = await soak.soak(soak_url, files_dir, seeded, days=days)
            series = ", ".join(
                f"{mb:.0f}" for _h, mb in soaked.samples[:: max(1, len(soaked.samples) // 8)]
            )
            rows.append(
                Row(
                    f"soak: {days} simulated days, {soaked.updates} updates, "
                    f"{soaked.broadcast_messages} pushed",
                    f"RSS {series} MB; after day 1 {soaked.growth_mb:+.1f} MB "
                    f"({soaked.seconds:.0f} s)",
                    "flat",
                    soaked.growth_mb < 10 if days > 1 else None,
                )
            )
            figures["soak"] = {
                "samples": soaked.samples,
                "growth_mb": soaked.growth_mb,
                "updates": soaked.updates,
                "seconds": soaked.seconds,
            }
        rows.append(
            Row(
                "peak memory of this benchmark process (seeding, emulator, driver, in-process bot)",
                f"{peak:.0f} MB before the soak, {soak.peak_rss_mb():.0f} MB at the end",
            )
        )
        figures["peak_rss_mb"] = soak.peak_rss_mb()

    scans = plans.growing_scans(plan_groups)
    small = plans.scanned_tables(plan_groups) - scans
    rows.append(
        Row(
            "growing tables read whole by /hoso, the tick, the claim",
            (", ".join(sorted(scans)) or "none")
            + (f" (small tables read whole: {', '.join(sorted(small))})" if small else ""),
            "none",
            not scans,
        )
    )
    print(
        f"\nThiĐua bot benchmark, {figures['date']}: {scale.units} units, "
        f"{seeded.counts.get('uploads', 0)} documents, {scale.invites} invites "
        f"({'quick' if args.quick else 'full'} scale)\n"
    )
    print(table(rows))
    if checks or errors:
        print(f"\nWARNING: {errors} timed-out updates; checks: {'; '.join(checks) or 'ok'}")
    print("\nQuery plans\n")
    print("\n".join(plans.render(plan_groups, counts)))
    figures["rows"] = [r.cells() for r in rows]
    figures["problems"] = {"errors": errors, "checks": checks}
    return figures


async def _budget_rows(
    urls: dict[str, str], files_dir: Path, seeded: Seeded, figures: dict[str, Any], *, quick: bool
) -> list[Row]:
    """Issue 18's three cases, under the emulator's flood control (Telegram's limits)."""
    rows: list[Row] = []
    people = min(300, len(seeded.invite_codes))
    b = await burst.start_burst(urls["burst"], files_dir, seeded, people=people)
    rows.append(
        Row(
            f"burst: {b.people} people send /start CODE at once",
            f"{b.welcomed} welcomed, {b.lost} lost; last reply after {b.seconds:.1f} s "
            f"(at the cap: {b.ideal_seconds:.1f} s) = {b.fraction:.0%} of 25/s; "
            f"{b.flood_429} × 429",
            "all welcomed, ≥ 90% of cap",
            b.welcomed == b.people and b.lost == 0 and b.fraction >= 0.9,
        )
    )
    d = await burst.replies_during_broadcast(
        urls["during"], files_dir, seeded, recipients=200 if quick else 1_000
    )
    rows.append(
        Row(
            f"replies during a broadcast of {d.recipients} "
            f"({d.replies.users} people, /lich every 2 s)",
            f"p50 {d.replies.pct(50):.0f} ms, p95 {d.replies.pct(95):.0f} ms; "
            f"{d.pushed_meanwhile} pushed meanwhile, the broadcast "
            f"{d.recipients / d.broadcast_seconds:.1f}/s, {d.flood_429} × 429",
            "p95 < 1 s",
            d.replies.errors == 0 and d.replies.pct(95) < 1000,
        )
    )
    f = await burst.fairness(urls["fair"], files_dir, seeded)
    rows.append(
        Row(
            f"fairness: /lich while another chat sends {f.uploads} files "
            f"({f.download_seconds:.0f} s download each)",
            f"p95 {f.beside_uploads.pct(95):.0f} ms against {f.alone.pct(95):.0f} ms: "
            f"{f.added_ms:+.0f} ms",
            "+ < 200 ms",
            f.added_ms < 200 and not (f.alone.errors or f.beside_uploads.errors),
        )
    )
    figures["budget"] = {
        "burst": asdict(b) | {"fraction": b.fraction},
        "during_broadcast": d.replies.as_json() | {"pushed_meanwhile": d.pushed_meanwhile},
        "fairness": {"alone": f.alone.as_json(), "beside": f.beside_uploads.as_json()},
    }
    return rows


def _rate(m: interactive.Measure) -> str:
    return (
        f"{m.rate:,.0f} updates/s; p50 {m.pct(50):.1f} ms, p95 {m.pct(95):.1f} ms, "
        f"p99 {m.pct(99):.1f} ms"
    )


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a small province, a short run")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL database the run may empty")
    parser.add_argument(
        "--soak-days",
        type=int,
        default=None,
        help="simulated days of the soak (default 7, quick 1; 0 skips it)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(main(args))
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    problems = figures["problems"]
    return 1 if problems["errors"] or problems["checks"] else 0


if __name__ == "__main__":
    raise SystemExit(cli())

"""The benchmarks themselves, at a tiny scale: each scenario runs, its sample answers are the
ones expected, and its figures are real numbers (the figures are read in bench/, not here)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from bench import burst, conversations, delivery, interactive, memory, plans, soak
from bench.run import Row, _seeded, table
from bench.seed import BenchClock, Scale
from storage.db import Database

TINY = Scale(units=12, uploads=300, named_units_per_task=3, invites=40)


async def test_the_benchmarks_run_and_measure_what_they_claim(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/bench.db"
    files = tmp_path / "files"
    seeded, _tick = await _seeded(url, files, TINY)
    assert seeded.counts["units"] == 13 and seeded.counts["uploads"] >= 300
    assert seeded.full_dossier_units and seeded.invite_codes

    db = Database(url)
    groups = await plans.collect(db, seeded)
    await db.dispose()
    assert [g.title.split(":")[0] for g in groups] == ["/hoso", "due-computation", "outbox"]
    assert all(st.plan for g in groups for st in g.statements)
    # (Which tables are read whole depends on their size: judged at scale by bench.run.)

    echo, alone = await interactive.run_echo(users=2, per_user=3, single=3)
    assert not echo.check and echo.errors == 0 and len(echo.latencies) == 6 and echo.rate > 0
    assert len(alone.latencies) == 3
    ours = await interactive.run_bot(url, files, BenchClock(), seeded, 2, 3, 3)
    for name, measure in ours.items():
        assert measure.check == "" and measure.errors == 0, (name, measure.check)
        assert measure.latencies and not math.isnan(measure.pct(95)), name

    due = await delivery.due_to_send(url, files, seeded, pushes=3, spacing=0.2)
    assert len(due.delays) >= 3 and all(d >= 0 for d in due.delays)

    sent = await delivery.broadcast(tmp_path, recipients=30)
    assert sent.delivered_once == 30 and sent.duplicates == 0 and sent.flood_429 == 0
    assert 0 < sent.fraction <= 1.05

    # The send budget's cases, each on a copy of the province as seeded.
    copies = {}
    for name in ("burst", "during", "fair"):
        shutil.copyfile(tmp_path / "bench.db", tmp_path / f"{name}.db")
        copies[name] = f"sqlite+aiosqlite:///{tmp_path}/{name}.db"
    rush = await burst.start_burst(copies["burst"], files, seeded, people=20)
    assert rush.welcomed == 20 and rush.lost == 0 and rush.messages >= 20 and rush.seconds > 0
    during = await burst.replies_during_broadcast(
        copies["during"], files, seeded, recipients=60, users=2, every=0.3
    )
    assert during.replies.errors == 0 and len(during.replies.latencies) == 20
    assert during.pushed_meanwhile > 0 and during.broadcast_seconds > 0
    fair = await burst.fairness(copies["fair"], files, seeded, uploads=2, slow=0.2, samples=3)
    assert len(fair.alone.latencies) == len(fair.beside_uploads.latencies) == 3
    assert math.isfinite(fair.added_ms)

    claimed = await delivery.outbox_throughput(f"sqlite+aiosqlite:///{tmp_path}/o.db", rows=300)
    assert claimed.rows == 300 and claimed.rate > 0

    steps = await conversations.step_cost(f"sqlite+aiosqlite:///{tmp_path}/c.db", 30, chats=7)
    assert steps.stored_chats == 7  # each chat's changed step was written
    assert math.isfinite(steps.idle_ms) and math.isfinite(steps.moving_ms)

    bot = await memory.bot_memory(url, files, seeded, users=2, per_user=3)
    assert bot.updates == 6 and bot.pushed >= len(seeded.focal_ids) and 0 < bot.peak_mb < 1000

    week = await soak.soak(url, files, seeded, days=1, users=2)
    assert len(week.samples) >= 4 and week.updates > 0 and week.broadcast_messages > 0

    text = table([Row("a", "1", "≥ 1", True), Row("bb", "2")])
    assert text.splitlines()[0].startswith("| Measure") and "| yes |" in text

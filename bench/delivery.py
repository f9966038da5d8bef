"""Pushes and the outbox: a broadcast of 1,000 under Telegram's limits, the delay from a
push's due instant to its request with the scheduler running on its own, and the outbox's
claim-and-mark throughput."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bench.seed import TZ, BenchClock, Seeded
from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import Sandbox
from scheduler.delivery import DeliveryWorker
from scheduler.delivery.records import DeliveryStats, Recorder
from scheduler.delivery.rules import Limits
from scheduler.tick import Scheduler
from storage import outbox
from storage.db import Database
from storage.models import (
    Announcement,
    Audience,
    Member,
    Organization,
    OutboxMessage,
    OutboxStatus,
    Role,
    Unit,
)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (values in any order); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def bot_for(emu: BotApiEmulator) -> Bot:
    """A Bot as the Application builds it, talking HTTP to the emulator."""
    return Bot(
        emu.token,
        base_url=emu.base_url,
        base_file_url=emu.file_url,
        request=HTTPXRequest(connection_pool_size=32),
    )


# ----------------------------------------------------------------------- the broadcast


@dataclass(slots=True)
class Broadcast:
    """How a broadcast went: the rate against the cap, 429s, deliveries."""

    recipients: int
    enqueue_seconds: float
    seconds: float
    rate: float  # messages/s from the first request to the last
    cap: float
    flood_429: int
    delivered_once: int
    duplicates: int

    @property
    def fraction(self) -> float:
        """The achieved rate as a fraction of the cap."""
        return self.rate / self.cap


async def broadcast(work: Path, recipients: int = 1_000) -> Broadcast:
    """One announcement to `recipients` members: the real tick renders and enqueues it, the
    real worker sends it to an emulator enforcing Telegram's limits (30/s, 1/s per chat)."""
    db = Database(f"sqlite+aiosqlite:///{work}/broadcast.db")
    await db.migrate()
    clock = BenchClock()
    now = clock()
    async with db.write() as session:
        org = Organization(code="BENCH", name="Sở")
        session.add(org)
        await session.flush()
        unit = Unit(code="DV", name="Đơn vị", kind="phong", organization_id=org.id, created_at=now)
        session.add(unit)
        await session.flush()
        session.add_all(
            Member(
                telegram_user_id=3_000_000 + i,
                chat_id=3_000_000 + i,
                unit_id=unit.id,
                role=Role.FOCAL,
                full_name=f"Người nhận {i}",
                active=True,
                joined_at=now,
            )
            for i in range(recipients)
        )
        session.add(
            Announcement(
                organization_id=1,
                text="Thông báo: nộp báo cáo sơ kết trước 16:00 thứ Sáu.",
                audience=Audience.ALL,
                unit_ids=[],
                send_at=now - timedelta(minutes=1),
                created_by=1,
                created_at=now,
            )
        )
    try:
        async with BotApiEmulator() as emu:  # Telegram's flood limits, as the emulator has them
            for i in range(recipients):
                emu.user(3_000_000 + i, f"N{i}")
            async with bot_for(emu) as bot:
                started = time.perf_counter()
                await Scheduler(db, TZ, clock).tick()
                enqueued = time.perf_counter() - started
                worker = DeliveryWorker(db, bot, clock=clock)
                started = time.perf_counter()
                await worker.drain(timeout=recipients / 5)
                seconds = time.perf_counter() - started
            sends = [r.time for r in emu.requests if r.method == "sendMessage" and r.ok]
            counts = Counter(m.chat_id for m in emu.messages())
            return Broadcast(
                recipients=recipients,
                enqueue_seconds=enqueued,
                seconds=seconds,
                rate=(len(sends) - 1) / (sends[-1] - sends[0]) if len(sends) > 1 else 0.0,
                cap=worker.limits.global_per_second,
                flood_429=emu.flood_count,
                delivered_once=sum(1 for c in counts.values() if c == 1),
                duplicates=sum(c - 1 for c in counts.values() if c > 1),
            )
    finally:
        await db.dispose()


# -------------------------------------------------------------- due instant to request


@dataclass(slots=True)
class DueToSend:
    """Delays (seconds) from each announcement's due instant to its sendMessage request."""

    pushes: int
    delays: list[float]
    tick_seconds: float  # one scheduler tick on the seeded province

    def pct(self, p: float) -> float:
        return percentile(self.delays, p)


async def due_to_send(
    database_url: str, files_dir: Path, seeded: Seeded, pushes: int = 40, spacing: float = 0.25
) -> DueToSend:
    """The bot runs with its own scheduler and worker (as `thiduabot run`) on the seeded
    province; announcements to single units fall due every `spacing` seconds from a few
    seconds on. Each delay runs from the due instant to the request reaching the emulator."""
    clock = BenchClock()
    box = Sandbox(
        database_url=database_url,
        files_dir=files_dir,
        clock=clock,
        emulator=BotApiEmulator(),  # Telegram's limits
        background=True,
    )
    units = seeded.unit_ids[:pushes]
    start = clock() + timedelta(seconds=4)
    due = {unit: start + timedelta(seconds=k * spacing) for k, unit in enumerate(units)}
    async with box.db.write() as session:
        for unit, at in due.items():
            session.add(
                Announcement(
                    organization_id=1,
                    text=f"Nhắc việc số {unit}: cập nhật hồ sơ trên hệ thống.",
                    audience=Audience.UNITS,
                    unit_ids=[unit],
                    send_at=at,
                    created_by=1,
                    created_at=clock(),
                )
            )
    tick_started = time.perf_counter()
    await Scheduler(box.db, TZ, clock).tick()  # anything else due now, out of the way first
    tick_seconds = time.perf_counter() - tick_started
    # monotonic (the emulator's request times) to the bench clock
    offset = clock() - timedelta(seconds=time.monotonic())
    async with box.db.read() as session:
        # The units' focal points: seeded ones and those who joined in the /start benchmark.
        chats = {
            chat: unit
            for chat, unit in (
                await session.execute(
                    select(Member.chat_id, Member.unit_id).where(
                        Member.unit_id.in_(units), Member.active.is_(True)
                    )
                )
            ).all()
        }
    async with box:
        emu = box.emulator
        for chat in chats:
            emu.user(chat, f"Đầu mối {chat}")

        def arrived() -> dict[int, float]:
            return {
                r.chat_id: r.time
                for r in emu.requests
                if r.method == "sendMessage" and r.ok and r.chat_id in chats
            }

        await emu.wait_until(lambda: len(arrived()) == len(chats), timeout=60 + pushes * spacing)
        delays = [
            ((offset + timedelta(seconds=t)) - due[chats[chat]]).total_seconds()
            for chat, t in arrived().items()
        ]
    return DueToSend(len(units), delays, tick_seconds)


# ------------------------------------------------------------------- outbox throughput


@dataclass(slots=True)
class OutboxThroughput:
    """Rows claimed and marked sent per second, the marks committed in groups as the worker's
    records commit them."""

    backend: str
    rows: int
    workers: int
    seconds: float
    commits: int = 0  # claims and group commits of "sent" marks

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@dataclass(frozen=True, slots=True)
class _Answer:
    """The part of the Bot API's answer (a Message) the records take: its message id."""

    message_id: int


async def outbox_throughput(
    database_url: str, rows: int = 10_000, workers: int = 2, batch: int = 100
) -> OutboxThroughput:
    """As the worker does it, without the network: claim a batch (FOR UPDATE SKIP LOCKED on
    PostgreSQL) in one commit, then let every row's answer arrive at once, each in its own
    task, and record it through the worker's Recorder, which commits the marks in groups."""
    db = Database(database_url)
    await db.migrate()
    now = datetime.now(UTC)
    async with db.write() as session:
        await outbox.enqueue(
            session,
            [
                outbox.Outgoing(
                    key=f"bench:{i}",
                    push_key="bench",
                    kind="announcement",
                    chat_id=4_000_000 + i,
                    text="x",
                    not_before=now,
                )
                for i in range(rows)
            ],
            now,
        )
    commits = 0

    async def work() -> int:
        # One Recorder per worker, as each instance's DeliveryWorker has its own.
        nonlocal commits
        recorder = Recorder(db, Limits(), lambda: now, DeliveryStats(), None, 10.0)
        done = 0
        while True:
            async with db.write() as session:
                claimed = await outbox.claim(session, now, batch)
            commits += 1
            if not claimed:
                commits += recorder.sent_groups.commits
                return done
            await asyncio.gather(*(recorder.sent(row, _Answer(row.id)) for row in claimed))
            done += len(claimed)

    started = time.perf_counter()
    done = sum(await asyncio.gather(*(work() for _ in range(workers))))
    seconds = time.perf_counter() - started
    async with db.read() as session:
        sent = len(
            (
                await session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status == OutboxStatus.SENT,
                        OutboxMessage.telegram_message_id == OutboxMessage.id,
                    )
                )
            ).all()
        )
    await db.dispose()
    assert done == sent == rows, (done, sent, rows)
    backend = "SQLite" if db.is_sqlite else "PostgreSQL"
    return OutboxThroughput(backend, rows, workers, seconds, commits)


def summary(values: list[float]) -> dict[str, Any]:
    """p50/p95/max in ms, for --json."""
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 1),
        "p95_ms": round(percentile(values, 95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1) if values else None,
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
    }

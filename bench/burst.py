"""The send budget as people feel it (issue 18): under the emulator's flood control, which
answers 429 as Telegram does (~30/s in all, 1/s to a chat after a burst of 20).

- a burst: a department's people all send /start CODE at once (after `invite --all`);
- replies during a broadcast: people use the bot while the outbox sends a big broadcast;
- fairness: one person sends a dozen files over a slow network while another uses /lich.

Each runs the real Application in a Sandbox with the bot's real budget (25/s).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.interactive import Measure
from bench.seed import BenchClock, Seeded, _pdf
from bot.emulator import BotApiEmulator, EmulatedUser
from bot.emulator.sandbox import Sandbox
from storage import outbox

CAP = 25.0  # the bot's budget, messages a second


def _sent(emulator: BotApiEmulator, since: float, methods: frozenset[str]) -> list[float]:
    """When each message the emulator accepted since `since` arrived (monotonic)."""
    return [
        r.time
        for r in emulator.requests
        if r.time >= since and r.method in methods and r.status == 200
    ]


_MESSAGES = frozenset({"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"})


async def paced(
    name: str,
    users: list[EmulatedUser],
    count: int,
    every: float,
    action: Callable[[EmulatedUser, int], Awaitable[int]],
    processed: Callable[[int], Awaitable[None]],
) -> Measure:
    """Each user acts `count` times, once every `every` seconds as a person would (an open
    loop, staggered across users), whatever the answers' latency; every update timed."""
    measure = Measure(name, len(users), count)

    async def one(user: EmulatedUser, i: int) -> None:
        started = time.perf_counter()
        try:
            await processed(await action(user, i))
        except TimeoutError:
            measure.errors += 1
            return
        measure.latencies.append(time.perf_counter() - started)

    async def run(user: EmulatedUser, offset: float) -> None:
        await asyncio.sleep(offset)
        pending = []
        for i in range(count):
            pending.append(asyncio.create_task(one(user, i)))
            await asyncio.sleep(every)
        await asyncio.gather(*pending)

    started = time.perf_counter()
    await asyncio.gather(*(run(u, k * every / len(users)) for k, u in enumerate(users)))
    measure.seconds = time.perf_counter() - started
    return measure


def _strict(database_url: str, files_dir: Path, clock: BenchClock) -> Sandbox:
    """The real Application with its real budget, against Telegram's flood control."""
    return Sandbox(
        database_url=database_url, files_dir=files_dir, clock=clock, emulator=BotApiEmulator()
    )


@dataclass(slots=True)
class Burst:
    """N people sending /start CODE at once."""

    people: int
    welcomed: int = 0
    lost: int = 0  # updates never answered
    seconds: float = 0.0  # from the first /start to the last reply
    messages: int = 0  # messages the bot sent meanwhile (a welcome may be several)
    flood_429: int = 0

    @property
    def rate(self) -> float:
        """Messages a second over the burst."""
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def fraction(self) -> float:
        """The rate against the budget's cap."""
        return self.rate / CAP

    @property
    def ideal_seconds(self) -> float:
        """The least time the messages could take at the cap."""
        return self.messages / CAP


async def start_burst(
    database_url: str, files_dir: Path, seeded: Seeded, people: int = 300
) -> Burst:
    """`people` newcomers send /start with a fresh invite each, all within a moment."""
    codes = seeded.invite_codes[:people]
    result = Burst(len(codes))
    box = _strict(database_url, files_dir, BenchClock())
    async with box:
        emu = box.emulator
        users = [emu.user(8_000_000 + i, f"Mới {i}") for i in range(len(codes))]
        started = time.monotonic()
        ids = await asyncio.gather(
            *(u.send(f"/start {c}") for u, c in zip(users, codes, strict=True))
        )
        done = await asyncio.gather(
            *(box.processed(i, timeout=120) for i in ids), return_exceptions=True
        )
        result.lost = sum(isinstance(d, BaseException) for d in done)
        times = _sent(emu, started, _MESSAGES)
        result.seconds = (max(times) - started) if times else 0.0
        result.messages = len(times)
        result.welcomed = sum(bool(u.messages) for u in users)
        result.flood_429 = emu.flood_count
    return result


@dataclass(slots=True)
class DuringBroadcast:
    """Replies measured while the outbox sends a broadcast."""

    recipients: int
    replies: Measure = field(default_factory=lambda: Measure("replies", 0, 0))
    pushed_meanwhile: int = 0  # broadcast messages that went out while the replies ran
    broadcast_seconds: float = 0.0
    flood_429: int = 0


async def replies_during_broadcast(
    database_url: str,
    files_dir: Path,
    seeded: Seeded,
    recipients: int = 1_000,
    users: int = 10,
    every: float = 2.0,
) -> DuringBroadcast:
    """A broadcast of `recipients` messages is being sent; `users` focal points each use
    /lich every `every` seconds meanwhile. The replies' latencies, and the broadcast's pace."""
    result = DuringBroadcast(recipients)
    clock = BenchClock()
    box = _strict(database_url, files_dir, clock)
    async with box:
        emu = box.emulator
        people = [emu.user(seeded.focal_ids[u], f"ĐM{u}") for u in list(seeded.focal_ids)[:users]]
        for i in range(recipients):
            emu.user(6_000_000 + i, f"R{i}")
        now = clock() - timedelta(seconds=1)
        async with box.db.write() as session:
            await outbox.enqueue(
                session,
                [
                    outbox.Outgoing(
                        f"bench-burst:{i}",
                        "bench-burst",
                        "announcement",
                        6_000_000 + i,
                        f"Broadcast {i}",
                        now,
                    )
                    for i in range(recipients)
                ],
                now,
            )
        started = time.monotonic()
        sending = asyncio.create_task(box.deliver(timeout=recipients / CAP * 3 + 60))
        # Once the broadcast is well under way, people use the bot.
        await emu.wait_until(lambda: len(_sent(emu, started, _MESSAGES)) >= 50, timeout=30)
        before = len(_sent(emu, started, _MESSAGES))

        async def lich(user: EmulatedUser, _i: int) -> int:
            return await user.send("/lich")

        async def processed(update_id: int) -> None:
            await box.processed(update_id, timeout=30)

        result.replies = await paced("/lich during a broadcast", people, 10, every, lich, processed)
        result.pushed_meanwhile = len(_sent(emu, started, _MESSAGES)) - before
        await sending
        result.broadcast_seconds = time.monotonic() - started
        result.flood_429 = emu.flood_count
    return result


@dataclass(slots=True)
class Fairness:
    """Another person's latency, alone and while one person uploads slowly."""

    alone: Measure
    beside_uploads: Measure
    uploads: int
    download_seconds: float

    @property
    def added_ms(self) -> float:
        """What the slow uploads add to the other person's p95."""
        return self.beside_uploads.pct(95) - self.alone.pct(95)


async def fairness(
    database_url: str,
    files_dir: Path,
    seeded: Seeded,
    uploads: int = 12,
    slow: float = 1.0,
    samples: int = 15,
    every: float = 0.5,
) -> Fairness:
    """One focal point sends `uploads` files at once, each download taking `slow` seconds;
    another uses /lich twice a second meanwhile. Compared with a third person's /lich at the
    same pace before the uploads (each his own chat, so that neither uses up its chat's
    budget for the other)."""
    box = _strict(database_url, files_dir, BenchClock())
    async with box:
        emu = box.emulator
        uploader, first, second = (
            emu.user(seeded.focal_ids[u], f"ĐM{u}") for u in list(seeded.focal_ids)[:3]
        )

        async def lich(user: EmulatedUser, _i: int) -> int:
            return await user.send("/lich")

        async def processed(update_id: int) -> None:
            await box.processed(update_id, timeout=60)

        alone = await paced("/lich alone", [first], samples, every, lich, processed)
        emu.download_seconds = slow
        sent = [
            await uploader.send_document(
                _pdf(20_000_000 + i), f"bao-cao-{i}.pdf", "application/pdf"
            )
            for i in range(uploads)
        ]
        await emu.wait_until(lambda: bool(emu.downloads), timeout=30)
        beside = await paced("/lich beside slow uploads", [second], samples, every, lich, processed)
        await asyncio.gather(*(box.processed(i, timeout=uploads * slow + 60) for i in sent))
    return Fairness(alone, beside, uploads, slow)

"""A simulated week on the seeded province: every hour focal points check /hoso, tick a task
and send a file, and the office broadcasts to everyone; the clock jumps an hour at a time.
Resident memory is sampled every six simulated hours; flat means no leak.

What grew after the first day (issue 18): the scheduler's tick reads every announcement of
its 62-day horizon (scheduler/snapshot.py) and looks up each one's push key per recipient,
every tick. At this soak's rate, an announcement to all some 300 chats every hour, that is
about 7,200 keys more a day (18,600 at the end of day 1, 40,000 by day 4), and the heap's
high-water mark follows: +13 MB over days 2-4, +1 MB with the horizon cut to 12 hours."""

from __future__ import annotations

import gc
import resource
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bench.seed import BENCH_NOW, OFFICE_IDS, Seeded, _pdf
from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import Sandbox
from scheduler.delivery import DeliveryWorker, Limits
from storage.models import Announcement, Audience, Member


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """The largest resident memory this process has had, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class SteppedClock:
    """The bot's clock: BENCH_NOW, moved forward by the driver."""

    def __init__(self) -> None:
        self.now = BENCH_NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass(slots=True)
class Soak:
    """RSS samples (simulated hour, MB) and what the week carried."""

    hours: int
    samples: list[tuple[int, float]] = field(default_factory=list)
    updates: int = 0
    broadcast_messages: int = 0
    seconds: float = 0.0

    @property
    def growth_mb(self) -> float:
        """RSS at the end minus RSS after the first simulated day (the warm-up)."""
        settled = [mb for hour, mb in self.samples if hour >= 24]
        return settled[-1] - settled[0] if len(settled) > 1 else float("nan")


async def soak(
    database_url: str, files_dir: Path, seeded: Seeded, *, days: int = 7, users: int = 6
) -> Soak:
    """Run the week; the emulator forgets its log every simulated hour (it is not the
    subject, and it shares this process's memory with the bot)."""
    clock = SteppedClock()
    box = Sandbox(
        database_url=database_url,
        files_dir=files_dir,
        clock=clock,
        emulator=BotApiEmulator(flood_control=False),
    )
    result = Soak(hours=days * 24)
    started = time.perf_counter()
    async with box:
        assert box.app is not None
        # Pacing is measured by the broadcast benchmark; here the week should not take a week.
        box.app.bot_data.worker = DeliveryWorker(
            box.db,
            box.app.bot,
            limits=Limits(global_per_second=5_000, per_chat_interval=0.0001),
            clock=clock,
        )
        emu = box.emulator
        async with box.db.read() as session:  # everyone, those who joined by /start too
            chats = list(await session.scalars(select(Member.chat_id)))
        for chat in chats:
            emu.user(chat, f"Người {chat}")
        people = [
            box.person(seeded.focal_ids[u], f"ĐM{u}") for u in seeded.full_dossier_units[:users]
        ]
        for hour in range(result.hours):
            clock.now = BENCH_NOW + timedelta(hours=hour)
            for k, person in enumerate(people):
                await person.say("/hoso")
                screen = (await person.say("/nhiemvu")).last
                if screen.buttons and screen.buttons[0][0][1]:
                    await person.press_data(screen, screen.buttons[0][0][1])
                    result.updates += 1
                result.updates += 2
                if (hour + k) % 6 == 0:
                    await person.send_document(_pdf(50_000_000 + hour * 1000 + k), "bc.pdf")
                    result.updates += 1
            async with box.db.write() as session:
                session.add(
                    Announcement(
                        organization_id=1,
                        text=f"Thông báo giờ thứ {hour}: kiểm tra hồ sơ trên hệ thống.",
                        audience=Audience.ALL,
                        unit_ids=[],
                        send_at=clock.now,
                        created_by=OFFICE_IDS[0],
                        created_at=clock.now,
                    )
                )
            result.broadcast_messages += await box.tick()
            await box.deliver(timeout=120)
            # Every hour: the emulator lives in this process, and six hours of its records
            # (some 2,000 messages, their requests and transcript) held about 4 MB more.
            emu.forget_history()
            if hour % 6 == 0 or hour == result.hours - 1:
                gc.collect()
                result.samples.append((hour, rss_mb()))
    result.seconds = time.perf_counter() - started
    return result

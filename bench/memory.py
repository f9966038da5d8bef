"""The bot's own peak memory: the bot (bench/botproc.py, `thiduabot run` on the bench
clock) as a separate process against the emulator, on the seeded province, under /hoso,
uploads and a broadcast to every unit; its VmHWM (the peak resident set the kernel
recorded) is read from /proc before it stops."""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from bench.seed import BENCH_NOW, OFFICE_IDS, Seeded, _pdf
from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import process_environment
from storage.db import Database
from storage.models import Announcement, Audience, Member

ROOT = Path(__file__).resolve().parent.parent


@dataclass(slots=True)
class BotMemory:
    """Peak and final resident memory of the bot process, MB, and what it handled."""

    peak_mb: float
    final_mb: float
    updates: int
    pushed: int


def _status_mb(pid: int, field: str) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def bot_memory(
    database_url: str, files_dir: Path, seeded: Seeded, users: int = 20, per_user: int = 10
) -> BotMemory:
    """Run the real bot process, drive it, read its memory."""
    db = Database(database_url)
    async with db.read() as session:
        chats = list(await session.scalars(select(Member.chat_id).where(Member.active)))
    async with db.write() as session:  # due 15 s into the bot's run, amid the traffic
        session.add(
            Announcement(
                organization_id=1,
                text="Thông báo kiểm tra bộ nhớ.",
                audience=Audience.ALL,
                unit_ids=[],
                send_at=BENCH_NOW + timedelta(seconds=15),
                created_by=OFFICE_IDS[0],
                created_at=BENCH_NOW,
            )
        )
    async with BotApiEmulator(flood_control=False) as emu:
        for chat in chats:
            emu.user(chat, f"Người {chat}")
        env = process_environment(emu, database_url, files_dir)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.botproc", env=env, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        try:
            people = [emu.user(seeded.focal_ids[u]) for u in seeded.full_dossier_units[:users]]
            await emu.wait_until(lambda: any(r.method == "getUpdates" for r in emu.requests), 60)
            updates = 0

            async def person(k: int) -> None:
                nonlocal updates
                user = people[k]
                for i in range(per_user):
                    before = len(user.messages)
                    if i % 3 == 2:
                        await user.send_document(_pdf(90_000_000 + k * 1000 + i), "bc.pdf")
                    else:
                        await user.send("/hoso")
                    await emu.wait_until(lambda u=user, b=before: len(u.messages) > b, 30)
                    updates += 1

            await asyncio.gather(*(person(k) for k in range(len(people))))
            # The scheduler wakes for it 15 s after the start; the worker sends at 25/s.
            expected = len(seeded.focal_ids)
            await emu.wait_until(
                lambda: sum(1 for m in emu.messages() if "kiểm tra bộ nhớ" in m.text) >= expected,
                timeout=120 + expected / 20,
            )
            pushed = sum(1 for m in emu.messages() if "kiểm tra bộ nhớ" in m.text)
            return BotMemory(
                _status_mb(process.pid, "VmHWM"), _status_mb(process.pid, "VmRSS"), updates, pushed
            )
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), 30)
            await db.dispose()

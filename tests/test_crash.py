"""The bot killed with SIGKILL in the middle of a broadcast, then started again (PRODUCT §8)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import BotApiEmulator
from bot.sandbox import process_environment
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.conftest import (
    EXAMPLES,
    add_focal_points,
    announce_to_all,
    in_office_hours,
    load_files,
    track_child,
)

RECIPIENTS = 150


async def start_bot(tmp_path: Path, emu: BotApiEmulator, url: str) -> asyncio.subprocess.Process:
    env = process_environment(emu, url, tmp_path / "files")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    return track_child(process)


def deliveries(emu: BotApiEmulator) -> Counter[int]:
    return Counter(m.chat_id for m in emu.messages() if "Diễn tập" in m.text)


async def test_a_broadcast_survives_sigkill(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    db = Database(url)
    await db.migrate()
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    now = in_office_hours(datetime.now(UTC))
    chats = await add_focal_points(db, 900_000, RECIPIENTS, now)
    _push, rows = await announce_to_all(db, "Diễn tập gửi tin.", now)
    assert rows == RECIPIENTS
    async with BotApiEmulator() as emu:  # Telegram's limits: 30/s in all, 1/s per chat
        for chat in chats:
            emu.user(chat, f"Người {chat}")
        first = await start_bot(tmp_path, emu, url)
        await emu.wait_until(lambda: sum(deliveries(emu).values()) >= RECIPIENTS // 3, 60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        async with db.read() as session:
            in_flight = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENDING)
                )
                or 0
            )
        delivered_before_restart = sum(deliveries(emu).values())
        assert delivered_before_restart < RECIPIENTS  # killed in the middle

        second = await start_bot(tmp_path, emu, url)
        await emu.wait_until(lambda: len(deliveries(emu)) >= RECIPIENTS, 60)
        await asyncio.sleep(1.0)  # anything that would come twice has time to come
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, err.decode()

        counts = deliveries(emu)
        assert len(counts) == RECIPIENTS  # nobody misses it
        repeats = sum(n - 1 for n in counts.values())
        print(
            f"\nkilled after {delivered_before_restart} of {RECIPIENTS}; "
            f"{in_flight} rows were 'sending'; {repeats} repeated"
        )
        assert repeats <= in_flight  # a repeat only for what was in flight at the kill
        assert max(counts.values()) <= 2
        assert emu.flood_count == 0
        async with db.read() as session:
            resent = int(
                await session.scalar(select(func.sum(OutboxMessage.resent_after_crash))) or 0
            )
            statuses = set(await session.scalars(select(OutboxMessage.status).distinct()))
        assert resent == in_flight and statuses <= {OutboxStatus.SENT}
    await db.dispose()

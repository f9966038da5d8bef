"""The bot killed with SIGKILL in the middle of a broadcast, then started again (PRODUCT §8)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import BotApiEmulator
from storage.db import Database
from storage.models import Announcement, Audience, Member, OutboxMessage, OutboxStatus, Role, Unit
from tests.conftest import EXAMPLES, ROOT, load_files

RECIPIENTS = 150


async def start_bot(tmp_path: Path, emu: BotApiEmulator, url: str) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=emu.token,
        BOT_API_BASE_URL=emu.base_url,
        BOT_API_FILE_URL=emu.file_url,
        DATABASE_URL=url,
        FILES_DIR=str(tmp_path / "files"),
        PYTHONPATH=str(ROOT),
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def deliveries(emu: BotApiEmulator) -> Counter[int]:
    return Counter(m.chat_id for m in emu.messages() if "Diễn tập" in m.text)


async def test_a_broadcast_survives_sigkill(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    db = Database(url)
    await db.migrate()
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    now = datetime.now(UTC)
    async with db.write() as session:
        units = list(await session.scalars(select(Unit)))
        for i in range(RECIPIENTS):
            session.add(
                Member(
                    telegram_user_id=900_000 + i,
                    chat_id=900_000 + i,
                    unit_id=units[i % len(units)].id,
                    role=Role.FOCAL,
                    full_name=f"Người {i}",
                    active=True,
                    joined_at=now,
                )
            )
        session.add(
            Announcement(
                text="Diễn tập gửi tin.",
                audience=Audience.ALL,
                unit_ids=[],
                send_at=now,
                created_by=1,
                created_at=now,
            )
        )
    async with BotApiEmulator() as emu:  # Telegram's limits: 30/s in all, 1/s per chat
        for i in range(RECIPIENTS):
            emu.user(900_000 + i, f"Người {i}")
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

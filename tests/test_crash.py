"""The bot killed with SIGKILL in the middle of a broadcast, then started again (PRODUCT §8)."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bot.emulator import BotApiEmulator
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from tests.support.broadcasts import add_focal_points, announce_to_all
from tests.support.clock import in_office_hours
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.processes import start_bot

RECIPIENTS = 150


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
            recorded_sent = int(
                await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENT)
                )
                or 0
            )
        delivered_before_restart = sum(deliveries(emu).values())
        assert delivered_before_restart < RECIPIENTS  # killed in the middle

        second = await start_bot(tmp_path, emu, url)
        await emu.wait_until(lambda: len(deliveries(emu)) >= RECIPIENTS, 60)
        # Every row not recorded as sent at the kill goes once more, whether it had reached
        # Telegram or not: once that many have come, nothing else is to come.
        unrecorded = RECIPIENTS - recorded_sent
        await emu.wait_until(
            lambda: sum(deliveries(emu).values()) >= delivered_before_restart + unrecorded, 60
        )
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

"""A bot process killed mid-broadcast over both channels (PRODUCT §8, §12): each channel's
message cut between the platform's taking it and the bot's recording is sent once more after
the restart, counted in resent_after_crash; every other message arrives exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.emulator import BotApiEmulator
from bot.emulator.zalo import ZaloEmulator
from storage.db import Database
from storage.models import Channel, Member, OutboxMessage, OutboxStatus, PushTo, Role, Unit
from storage.outbox import delivery_report
from storage.units import reporting
from tests.support.broadcasts import add_focal_points, announce_to_all
from tests.support.clock import in_office_hours
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.processes import start_bot
from tests.support.waiting import eventually

TELEGRAM_ONLY, ZALO_ONLY, BOTH = 4, 4, 2


async def add_zalo_members(db: Database, zalo: ZaloEmulator, now: datetime) -> list[str]:
    """Focal points on Zalo only, and (the last BOTH) members of add_focal_points linked to
    Zalo too with pushes to both; the Zalo chats."""
    chats = []
    async with db.write() as session:
        units = list(await session.scalars(select(Unit).where(reporting()).order_by(Unit.id)))
        for i in range(ZALO_ONLY):
            user = zalo.user(f"z{i}", f"Zalo {i}")
            session.add(
                Member(
                    unit_id=units[i % len(units)].id,
                    role=Role.FOCAL,
                    full_name=user.name,
                    active=True,
                    joined_at=now,
                    zalo_user_id=user.id,
                    zalo_chat_id=user.id,
                    zalo_linked_at=now,
                    push_to=PushTo.ZALO,
                )
            )
            chats.append(user.id)
        both = list(await session.scalars(select(Member).order_by(Member.id).limit(BOTH)))
        for i, member in enumerate(both):
            user = zalo.user(f"b{i}", member.full_name)
            member.zalo_user_id = member.zalo_chat_id = user.id
            member.zalo_linked_at, member.push_to = now, PushTo.BOTH
            chats.append(user.id)
    return chats


async def start(
    tmp_path: Path, emu: BotApiEmulator, zalo: ZaloEmulator, url: str
) -> asyncio.subprocess.Process:
    return await start_bot(
        tmp_path, emu, url, ZALO_BOT_TOKEN=zalo.token, ZALO_API_BASE_URL=zalo.base_url
    )


def telegram_received(emu: BotApiEmulator) -> Counter[int]:
    return Counter(m.chat_id for m in emu.messages() if "Diễn tập hai kênh" in m.text)


def zalo_received(zalo: ZaloEmulator, chats: list[str]) -> Counter[str]:
    return Counter({c: sum("Diễn tập hai kênh" in t for t in zalo.user(c).messages) for c in chats})


async def test_killed_mid_broadcast_over_both_channels(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/crash.db"
    db = Database(url)
    await db.migrate()
    await load_files(db, EXAMPLES / "units-lang-son.yaml")
    now = in_office_hours(datetime.now(UTC))
    async with BotApiEmulator() as emu, ZaloEmulator() as zalo:
        telegram = await add_focal_points(db, 970_000, TELEGRAM_ONLY + BOTH, now)
        for chat in telegram:
            emu.user(chat, f"Người {chat}")
        zalo_chats = await add_zalo_members(db, zalo, now)
        push, rows = await announce_to_all(
            db, "Diễn tập hai kênh: mất điện giữa chừng.", now, zalo=True
        )
        assert rows == len(telegram) + len(zalo_chats)

        # Each platform takes its first message at once and answers 3 s late: the kill
        # lands in between, on both channels.
        emu.fail_next("sendMessage", status=200, delay=3.0)
        zalo.hold_next_answer(3.0)
        first = await start(tmp_path, emu, zalo, url)
        await emu.wait_until(lambda: len(telegram_received(emu)) == len(telegram), 30)
        await zalo.wait_until(lambda: all(zalo_received(zalo, zalo_chats).values()), 30)

        async def cut_on_both() -> bool:
            async with db.read() as session:
                sending = await session.scalars(
                    select(OutboxMessage.channel).where(
                        OutboxMessage.status == OutboxStatus.SENDING
                    )
                )
                return Counter(sending) == {Channel.TELEGRAM: 1, Channel.ZALO: 1}

        await eventually(cut_on_both)
        first.send_signal(signal.SIGKILL)
        await first.wait()

        second = await start(tmp_path, emu, zalo, url)

        async def all_sent() -> bool:
            async with db.read() as session:
                states = Counter(await session.scalars(select(OutboxMessage.status)))
            return states == {OutboxStatus.SENT: rows}

        await eventually(all_sent, timeout=30)
        second.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(second.communicate(), 30)
        assert second.returncode == 0, err.decode()

        # At most the one message in flight per channel came twice, and each repeat counted.
        on_telegram, on_zalo = telegram_received(emu), zalo_received(zalo, zalo_chats)
    assert sorted(on_telegram.values()) == [1] * (len(telegram) - 1) + [2]
    assert sorted(on_zalo.values()) == [1] * (len(zalo_chats) - 1) + [2]
    async with db.read() as session:
        report = await delivery_report(session, push, prefix=True)
        resent = dict(
            (
                await session.execute(
                    select(OutboxMessage.channel, OutboxMessage.resent_after_crash).where(
                        OutboxMessage.resent_after_crash > 0
                    )
                )
            ).all()
        )
    assert resent == {Channel.TELEGRAM: 1, Channel.ZALO: 1}
    assert report.resent_after_crash == 2
    assert report.by_channel == {
        Channel.TELEGRAM: {OutboxStatus.SENT: len(telegram)},
        Channel.ZALO: {OutboxStatus.SENT: len(zalo_chats)},
    }
    assert b"were being sent at a crash" in err
    await db.dispose()

"""Updates of different chats at once, those of one chat in order (bot/concurrency.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.concurrency import PerChatUpdateProcessor


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Minh", is_bot=False)
    return Update(
        update_id, message=Message(update_id, datetime.now(UTC), chat, user, text="/hoso")
    )


async def test_one_chat_waits_for_itself_but_not_for_others() -> None:
    processor = PerChatUpdateProcessor(8)
    events: list[str] = []
    release = asyncio.Event()

    async def handle(name: str, wait: bool) -> None:
        events.append(f"{name} start")
        if wait:
            await release.wait()
        events.append(f"{name} end")

    first = asyncio.create_task(processor.process_update(update(1, 10), handle("A1", True)))
    second = asyncio.create_task(processor.process_update(update(2, 10), handle("A2", False)))
    other = asyncio.create_task(processor.process_update(update(3, 20), handle("B", False)))
    await asyncio.wait_for(other, 1)
    assert events == ["A1 start", "B start", "B end"]  # B did not wait for chat 10
    release.set()
    await asyncio.gather(first, second)
    assert events[3:] == ["A1 end", "A2 start", "A2 end"]  # A2 waited for A1
    assert processor._chats == {}  # nothing kept for quiet chats


async def test_at_most_max_concurrent_updates_run_at_once() -> None:
    processor = PerChatUpdateProcessor(3)
    running, peak = 0, 0
    full, release = asyncio.Event(), asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 3:
            full.set()  # every slot taken: the other seven must be waiting for one
        await release.wait()
        running -= 1

    updates = asyncio.gather(
        *(processor.process_update(update(i, 100 + i), handle()) for i in range(10))
    )
    await asyncio.wait_for(full.wait(), 5)
    release.set()
    await updates
    assert peak == 3

"""Updates of different chats are handled at once; those of one chat, one after another."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# While one update waits on the database or on Telegram, others proceed. PTB's default
# processes one update at a time, which makes every user wait for every other.
CONCURRENT_UPDATES = 8


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates at once, never two of the same chat.

    A person's messages keep their order, and ConversationHandler, which relies on the
    updates of one conversation arriving one by one, sees exactly that: in private chats its
    conversation key is the chat. (An update of a busy chat waits holding one of the slots.)
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # chat id -> (its lock, how many updates of it are waiting or running)
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        # Set by the application: how an update is handled once its chat's turn has come
        # (bot.conversations puts the chat's stored conversation steps in place around it).
        self.handle: Callable[[object, Awaitable[Any]], Awaitable[None]] = _just_await

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = _chat_of(update)
        if chat is None:
            await coroutine
            return
        lock, users = self._chats.setdefault(chat, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                await self.handle(update, coroutine)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._chats[chat]  # no memory kept for chats that went quiet

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


async def _just_await(_update: object, coroutine: Awaitable[Any]) -> None:
    await coroutine


def _chat_of(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None

"""Updates of different chats are handled at once; those of one chat, one after another.

Fairness (PRODUCT §8: one person's slow uploads never delay another person's answer): an
update takes one of the shared slots only once its chat's turn has come, so the queued
updates of a busy chat hold none; and a long wait inside a handler (a file's download) is
made `handlers.slots.outside_slot()`, giving its slot to other chats meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from handlers.slots import UPDATE_SLOT

# While one update waits on the database or on Telegram, others proceed. PTB's default
# processes one update at a time, which makes every user wait for every other.
CONCURRENT_UPDATES = 8


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates at once, never two of the same chat.

    A person's messages keep their order, and ConversationHandler, which relies on the
    updates of one conversation arriving one by one, sees exactly that: in private chats its
    conversation key is the chat. An update of a busy chat waits for its chat's turn without
    holding a slot.
    """

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # chat id -> (its lock, how many updates of it are waiting or running)
        self._chats: dict[int, tuple[asyncio.Lock, list[int]]] = {}
        # Set by the application: how an update is handled once its chat's turn has come
        # (bot.conversations puts the chat's stored conversation steps in place around it).
        self.handle: Callable[[object, Awaitable[Any]], Awaitable[None]] = _just_await

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Called holding a slot (PTB's `process_update`): the slot is given back while the
        update waits for its chat's turn, and taken again when the turn has come."""
        slot = self._semaphore
        chat = _chat_of(update)
        if chat is None:
            await self._handle(slot, update, coroutine)
            return
        lock, users = self._chats.setdefault(chat, (asyncio.Lock(), [0]))
        users[0] += 1
        slot.release()
        held = False
        try:
            async with lock:
                await slot.acquire()
                held = True
                await self._handle(slot, update, coroutine)
        finally:
            if not held:  # cancelled while waiting: PTB releases the slot it believes held
                await slot.acquire()
            users[0] -= 1
            if users[0] == 0:
                del self._chats[chat]  # no memory kept for chats that went quiet

    async def _handle(
        self, slot: asyncio.Semaphore, update: object, coroutine: Awaitable[Any]
    ) -> None:
        token = UPDATE_SLOT.set(slot)
        try:
            await self.handle(update, coroutine)
        finally:
            if UPDATE_SLOT.get() is not slot:  # cancelled inside outside_slot(): take it back
                await slot.acquire()
            UPDATE_SLOT.reset(token)

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

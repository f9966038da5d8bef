"""The update slot a handler holds, and how a long wait gives it to other chats meanwhile
(bot/concurrency.py hands the slots out)."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator

# The slot the current update holds (None outside an update's handling).
UPDATE_SLOT: contextvars.ContextVar[asyncio.Semaphore | None] = contextvars.ContextVar(
    "update_slot", default=None
)


@contextlib.asynccontextmanager
async def outside_slot() -> AsyncIterator[None]:
    """Give the current update's slot to other chats while the body waits (a download); the
    chat's own lock is kept, so its next update still waits for this one."""
    slot = UPDATE_SLOT.get()
    if slot is None:
        yield
        return
    slot.release()
    UPDATE_SLOT.set(None)
    try:
        yield
    finally:
        await slot.acquire()
        UPDATE_SLOT.set(slot)

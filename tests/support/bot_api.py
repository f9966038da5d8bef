"""A real telegram.Bot talking HTTP to the emulator, for tests of the delivery worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.emulator import BotApiEmulator


@asynccontextmanager
async def telegram_bot(
    emu: BotApiEmulator, *, read_timeout: float = 5.0, **request: float
) -> AsyncIterator[Bot]:
    """A real Bot talking HTTP to the emulator."""
    bot = Bot(
        emu.token,
        base_url=emu.base_url,
        base_file_url=emu.file_url,
        request=HTTPXRequest(
            connection_pool_size=int(request.pop("connection_pool_size", 32)),
            read_timeout=read_timeout,
            **request,
        ),
    )
    async with bot:
        yield bot

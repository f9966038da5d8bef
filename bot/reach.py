"""How the bot reaches the Bot API (PRODUCT §9): the HTTP clients of its requests."""

from __future__ import annotations

from typing import Any

from telegram.request import HTTPXRequest

from bot.config import Settings


def bot_connection(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of the bot that say where and how its requests go."""
    return {
        "base_url": settings.bot_api_base_url,
        "base_file_url": settings.bot_api_file_url,
        # The pool sizes ApplicationBuilder would choose: many requests at once, one poll.
        "request": HTTPXRequest(connection_pool_size=256),
        "get_updates_request": HTTPXRequest(connection_pool_size=1),
    }

"""How the bot reaches the Bot API (PRODUCT §9): the HTTP clients of its requests, through
BOT_PROXY when one is set, and the local mode of a self-hosted Bot API server."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from telegram.request import HTTPXRequest

from bot.config import Settings

log = logging.getLogger(__name__)


def bot_connection(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of the bot that say where and how its requests go.

    Both clients take the proxy: every method, getUpdates included, and file downloads too
    (PTB fetches a file with the bot's `request`, the first client). In local mode getFile
    answers with a path on the Bot API server's disk, which PTB reads when the bot sees that
    path too (same machine or a shared volume); `local_mode` makes PTB also send files it
    uploads from disk as file:// paths."""
    proxy = settings.bot_proxy.get_secret_value() if settings.bot_proxy is not None else None
    if proxy is not None:
        log.info("Bot API requests go through the proxy %s", shown_proxy(proxy))
    return {
        "base_url": settings.bot_api_base_url,
        "base_file_url": settings.bot_api_file_url,
        # The pool sizes ApplicationBuilder would choose: many requests at once, one poll.
        "request": HTTPXRequest(connection_pool_size=256, proxy=proxy),
        "get_updates_request": HTTPXRequest(connection_pool_size=1, proxy=proxy),
        "local_mode": settings.bot_api_local,
    }


def shown_proxy(url: str) -> str:
    """The proxy URL as a log may show it: its password, if any, replaced by stars."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))

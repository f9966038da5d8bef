"""Every request to Telegram passes here: none may go out inside a write transaction.

On SQLite a write transaction holds the database's only write lock; a Telegram round trip
made inside one would stall every other writer for as long as Telegram takes to answer
(STYLE.md: reply after the transaction). A request made so is still sent, and logged at
ERROR on `bot.request_guard` with its method, so the test suite fails on it (tests/conftest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from storage.db import in_write_transaction

log = logging.getLogger(__name__)
IN_TRANSACTION = "Bot API request %s sent inside a write transaction"


class RequestGuard(BaseRateLimiter[None]):
    """Checks each request (see the module's text); it paces nothing."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Log a request made inside a write transaction, then make it."""
        if in_write_transaction():
            log.error(IN_TRANSACTION, endpoint)
        return await callback(*args, **kwargs)

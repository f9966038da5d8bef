"""Every request to Telegram passes here: it takes its slot of the send budget, waits out a
429, and is checked for being made inside a write transaction.

Pacing: every message (sent, edited, a document) takes a slot of the one send budget
(scheduler/delivery/budget.py), a reply to a person before the outbox worker's bulk pushes,
which come here already paced by the worker (`rate_limit_args={"bulk": True}`) and only
count in their chat's budget. A 429 closes the budget's gate for everyone for the time
Telegram asked; a reply is then sent again (up to `REPLY_ATTEMPTS` in all), a push is left
to the worker, which records it and sends it again itself. Other requests (getUpdates,
answerCallbackQuery, getFile …) are not messages and go at once.

The transaction check: on SQLite a write transaction holds the database's only write lock;
a Telegram round trip made inside one would stall every other writer for as long as
Telegram takes to answer (STYLE.md: reply after the transaction). A request made so is
still sent, and logged at ERROR on `bot.request_guard` with its method, so the test suite
fails on it (tests/conftest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from scheduler.delivery.budget import SendBudget
from scheduler.delivery.rules import retry_after_seconds
from storage.db import in_write_transaction

log = logging.getLogger(__name__)
IN_TRANSACTION = "Bot API request %s sent inside a write transaction"

# The methods Telegram counts as messages, per chat and in all.
MESSAGE_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendmediagroup",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "editmessagemedia",
    }
)
# A reply is tried this many times in all before its failure goes to the error handler.
REPLY_ATTEMPTS = 4

Result = bool | dict[str, Any] | list[dict[str, Any]]


class RequestGuard(BaseRateLimiter[dict[str, Any]]):
    """Paces, retries and checks each request (see the module's text)."""

    def __init__(self, budget: SendBudget | None = None) -> None:
        self.budget = budget
        self.replies_retried = 0  # replies sent again after a 429
        self.replies_given_up = 0  # replies still refused after REPLY_ATTEMPTS

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> Result:
        """Log a request made inside a write transaction; pace a message; make the request."""
        if in_write_transaction():
            log.error(IN_TRANSACTION, endpoint)
        budget = self.budget
        if budget is None or endpoint.lower() not in MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        chat = _chat_of(data)
        bulk = bool(rate_limit_args and rate_limit_args.get("bulk"))
        for attempt in range(1, REPLY_ATTEMPTS + 1):
            if bulk:
                # Paced by the worker already, 1/s per chat: it still counts in the chat.
                if chat is not None:
                    budget.chat_delay(chat)
            else:
                await budget.take(chat)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                budget.pause(seconds)
                if bulk:
                    raise  # the worker records it and sends it again after the pause
                if attempt == REPLY_ATTEMPTS:
                    self.replies_given_up += 1
                    raise
                self.replies_retried += 1
                log.warning("%s got 429 (retry after %.0f s): sent again", endpoint, seconds)
        raise AssertionError("unreachable")  # pragma: no cover


def _chat_of(data: dict[str, Any]) -> int | None:
    """The chat a request goes to, when it names one by number."""
    chat = data.get("chat_id")
    if isinstance(chat, int):
        return chat
    if isinstance(chat, str) and chat.lstrip("-").isdigit():
        return int(chat)
    return None

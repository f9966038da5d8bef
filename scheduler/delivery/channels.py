"""The channels the outbox worker sends through, behind one small interface (PRODUCT §12).

A `Sender` sends one outbox row (a text, or a document where the channel takes files), asks
whether its API answers again after an outage, and classifies its own errors into the
rules' `SendFailure` (sent / blocked / uncertain / failed, and when to retry). Everything
else (claiming, pacing, retries, records) is the worker's and the same on every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from scheduler.delivery.records import Answer
from scheduler.delivery.rules import Cause, Limits, SendFailure, telegram_failure
from scheduler.delivery.zalo import Failure, ZaloClient, ZaloError
from storage.models import Channel, OutboxMessage

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Told to the bot's request guard: this request is a push the worker paced (bot/request_guard).
_BULK = {"bulk": True}

# The Zalo Bot Platform publishes no rate limits: the worker keeps well under what an
# official account is allowed, one message a second to a person, and waits out a 429.
ZALO_LIMITS = Limits(global_per_second=10.0, per_chat_interval=1.0)
# Zalo's 429 carries no retry_after: the pause it gets.
ZALO_RATE_PAUSE = 5.0
# The database row of each channel's shared send budget (PostgreSQL, storage.models.SendBudget).
BUDGET_ROWS = {Channel.TELEGRAM: 1, Channel.ZALO: 2}


class Sender(Protocol):
    """One channel as the worker uses it."""

    channel: Channel

    async def send(self, row: OutboxMessage) -> Answer:
        """Send the row; raises on any failure (classified by `failure`)."""
        ...

    async def probe(self) -> None:
        """Raises while the channel's API does not answer (after an outage)."""
        ...

    def failure(self, exc: Exception) -> SendFailure:
        """An exception `send` raised, classified."""
        ...


class TelegramSender:
    """The bot's own Telegram chats (HTML texts and documents by file id)."""

    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._bulk: dict[str, Any] = {"rate_limit_args": _BULK} if isinstance(bot, ExtBot) else {}

    async def send(self, row: OutboxMessage) -> Answer:
        if row.document_file_id:
            return await self.bot.send_document(
                row.chat_id,
                row.document_file_id,
                caption=row.text or None,
                parse_mode=ParseMode.HTML,
                **self._bulk,
            )
        return await self.bot.send_message(
            row.chat_id,
            row.text,
            parse_mode=ParseMode.HTML,
            link_preview_options=_NO_PREVIEW,
            **self._bulk,
        )

    async def probe(self) -> None:
        await self.bot.get_me()

    def failure(self, exc: Exception) -> SendFailure:
        return telegram_failure(exc)


@dataclass(frozen=True, slots=True)
class _ZaloAnswer:
    # Zalo's message ids are strings; the outbox keeps Telegram's numeric ones only.
    message_id: int | None = None


_CAUSES = {
    Failure.BLOCKED: Cause.BLOCKED,
    Failure.RATE_LIMITED: Cause.RATE_LIMITED,
    Failure.REFUSED: Cause.REFUSED,
    Failure.UNREACHABLE: Cause.UNREACHABLE,
    Failure.UNCERTAIN: Cause.TIMED_OUT,
}
# How each cause's error starts in the row: the outbox's outage rules read these prefixes
# (storage.outbox.bring_forward), as they read the Bot API's exception names.
_PREFIXES = {Cause.RATE_LIMITED: "RetryAfter", Cause.TIMED_OUT: "TimedOut"}


class ZaloSender:
    """The Zalo bot's chats: plain text only (the rows carry the Zalo chat in `address`)."""

    channel = Channel.ZALO

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    async def send(self, row: OutboxMessage) -> Answer:
        if row.address is None:
            raise ZaloError(Failure.REFUSED, "no Zalo chat on the row", 400)
        await self.client.send_message(row.address, row.text)
        return _ZaloAnswer()

    async def probe(self) -> None:
        await self.client.get_me()

    def failure(self, exc: Exception) -> SendFailure:
        if not isinstance(exc, ZaloError):
            return SendFailure(Cause.UNEXPECTED, f"{type(exc).__name__}: {exc}")
        cause = _CAUSES[exc.failure]
        prefix = _PREFIXES.get(cause, "ZaloError")
        code = f" {exc.code}" if exc.code is not None else ""
        error = f"{prefix}: Zalo{code} {exc.description}".rstrip()
        pause = ZALO_RATE_PAUSE if cause is Cause.RATE_LIMITED else None
        return SendFailure(cause, error, pause)

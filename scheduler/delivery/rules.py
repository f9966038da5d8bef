"""The outcome rules: what becomes of an outbox row once its channel has answered the request.

Pure: no clock, no database, no network. An answer means sent; an error is first classified
by its channel (`telegram_failure` here, the Zalo adapter's in scheduler/delivery/channels.py)
as a `SendFailure`, then `outcome_of` says whether the row is retried (and when), blocked,
failed or uncertain, the same way on every channel. The worker carries the outcome out, each
in its own commit.
"""

from __future__ import annotations

import enum
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from storage.models import OutboxMessage, OutboxStatus


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits and the worker's retry policy (seconds unless said otherwise)."""

    global_per_second: float = 25.0  # <= 25 messages/s in all
    per_chat_interval: float = 1.0  # <= 1 message/s to one chat
    max_in_flight: int = 16  # concurrent requests
    batch: int = 100  # rows claimed per transaction, at most
    retry_backoff: tuple[float, ...] = (5, 15, 60, 300, 900, 1800, 3600)  # then the last repeated
    give_up_after: float = 24 * 3600  # since the first error: refused connections/5xx -> failed
    timeout_pause: float = 5.0  # pause before the single retry after a read timeout
    lease: float = 120.0  # a row "sending" longer than this was abandoned by a crash


class Cause(enum.Enum):
    """Why a request did not end as sent: what the worker counts and logs besides the row."""

    RATE_LIMITED = "rate_limited"  # 429: wait as long as Telegram says
    BLOCKED = "blocked"  # 403: the person blocked the bot
    REFUSED = "refused"  # 400: Telegram will never take this message
    TIMED_OUT = "timed_out"  # read/write timeout: the request may have been delivered
    UNREACHABLE = "unreachable"  # no connection, 5xx: the Bot API is down for now
    UNEXPECTED = "unexpected"  # anything else, retried like an outage


@dataclass(frozen=True, slots=True)
class SendFailure:
    """A failed request as its channel classified it."""

    cause: Cause
    error: str  # what the row records; a 429 starts with "RetryAfter", a timeout "TimedOut"
    retry_after: float | None = None  # RATE_LIMITED: seconds the channel asked to wait


@dataclass(frozen=True, slots=True)
class Outcome:
    """What becomes of a row whose request failed."""

    cause: Cause
    status: OutboxStatus  # PENDING (another attempt at not_before), BLOCKED, FAILED, UNCERTAIN
    error: str  # what the row records
    not_before: datetime | None = None
    timed_out: bool = False  # the retry follows a request that may have been delivered


def retry_delay(limits: Limits, attempts: int) -> float:
    """Seconds before the next attempt of a row that has made `attempts` attempts."""
    backoff = limits.retry_backoff
    return float(backoff[min(max(attempts, 1), len(backoff)) - 1])


def may_have_been_delivered(exc: TimedOut) -> bool:
    """False only when the timeout struck before the request could reach Telegram."""
    # PTB wraps httpx's exception as __cause__; connect and pool timeouts mean nothing was
    # written. Read/write timeouts, or an unknown cause, may have left a delivered message.
    return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def retry_after_seconds(exc: RetryAfter) -> float:
    """retry_after as seconds, whether PTB hands out an int or a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns about the int form; either form is handled below.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def describe(exc: BaseException) -> str:
    """The error as a row records it: its type and Telegram's message."""
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"


def telegram_failure(exc: Exception) -> SendFailure:
    """A Bot API error (python-telegram-bot's exceptions) classified."""
    error = describe(exc)
    if isinstance(exc, RetryAfter):
        return SendFailure(Cause.RATE_LIMITED, error, retry_after_seconds(exc))
    if isinstance(exc, Forbidden):
        return SendFailure(Cause.BLOCKED, error)
    if isinstance(exc, BadRequest):
        return SendFailure(Cause.REFUSED, error)
    if isinstance(exc, TimedOut) and may_have_been_delivered(exc):
        return SendFailure(Cause.TIMED_OUT, error)
    # A connect timeout is a NetworkError too: nothing left, so it counts as an outage.
    return SendFailure(
        Cause.UNREACHABLE if isinstance(exc, NetworkError) else Cause.UNEXPECTED, error
    )


def outcome_of(failure: SendFailure, row: OutboxMessage, limits: Limits, now: datetime) -> Outcome:
    """How a failed request ends for its row, `now` being when the answer came."""
    cause, error = failure.cause, failure.error
    if cause is Cause.RATE_LIMITED:
        not_before = now + timedelta(seconds=failure.retry_after or 0.0)
        return Outcome(cause, OutboxStatus.PENDING, error, not_before)
    if cause is Cause.BLOCKED:
        return Outcome(cause, OutboxStatus.BLOCKED, error)
    if cause is Cause.REFUSED:
        return Outcome(cause, OutboxStatus.FAILED, error)
    if cause is Cause.TIMED_OUT:
        if row.timeouts >= 1:
            # Retried once already: a third delivery is worse than a reported doubt.
            return Outcome(cause, OutboxStatus.UNCERTAIN, error)
        not_before = now + timedelta(seconds=limits.timeout_pause)
        return Outcome(cause, OutboxStatus.PENDING, error, not_before, timed_out=True)
    elapsed = (now - row.first_error_at).total_seconds() if row.first_error_at else 0.0
    if row.first_error_at is not None and elapsed >= limits.give_up_after:
        return Outcome(cause, OutboxStatus.FAILED, error)
    not_before = now + timedelta(seconds=retry_delay(limits, row.attempts))
    return Outcome(cause, OutboxStatus.PENDING, error, not_before)

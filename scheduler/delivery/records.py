"""The worker's records: each request's outcome written in its own commit, counted, logged.

What the outcome is, `rules` decides; this carries it out right after the answer, retrying
the write if the database fails. It also notices an outage of the Bot API and, when the API
answers again, brings forward the rows waiting out a long backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message

from scheduler.delivery.rules import Cause, Limits, outcome_of
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

OnBlocked = Callable[[int, int | None], Awaitable[None]]

# A failed outcome write is retried: losing it would leave the row "sending" until the lease
# expires and then resend it, a duplicate.
_WRITE_ATTEMPTS = 3


@dataclass(slots=True)
class DeliveryStats:
    """What the worker has done since it was created."""

    sent: int = 0
    retried: int = 0  # rows put back to pending for another attempt, whatever the cause
    rate_limited: int = 0  # 429 answers seen
    timeouts: int = 0  # read/write timeouts: the request may have been delivered
    uncertain: int = 0
    blocked: int = 0
    failed: int = 0
    requests: int = 0
    recovered: int = 0  # rows found abandoned "sending" after a crash and sent again


class Recorder:
    """Writes what became of each request, and keeps the counts of it."""

    def __init__(
        self,
        db: Database,
        limits: Limits,
        clock: Callable[[], datetime],
        stats: DeliveryStats,
        on_blocked: OnBlocked | None,
        probe_every: float,
    ) -> None:
        self.db = db
        self.limits = limits
        self.clock = clock
        self.stats = stats
        self.on_blocked = on_blocked
        self.probe_every = probe_every
        # Since when requests fail for want of a connection or with 5xx (None: they do not),
        # and when to ask getMe next whether the Bot API is back.
        self.outage_since: float | None = None
        self.next_probe = 0.0

    async def write(self, action: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """One write transaction, retried a few times if the database fails."""
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                async with self.db.write() as session:
                    await action(session)
                return
            except DBAPIError:
                if attempt == _WRITE_ATTEMPTS:
                    raise
                log.warning("outbox write failed (attempt %d), retrying", attempt, exc_info=True)
                await asyncio.sleep(0.5 * attempt)

    async def sent(self, row: OutboxMessage, message: Message) -> int:
        """The answer came: sent. Returns how many rows `api_back` made due (after an outage)."""
        now = self.clock()
        await self.write(lambda s: outbox.mark_sent(s, row.id, now, message.message_id))
        self.stats.sent += 1
        if self.outage_since is not None:
            return await self.api_back()
        return 0

    async def api_back(self) -> int:
        """After an outage, what waits out a long backoff goes now rather than in minutes."""
        if self.outage_since is None:
            return 0
        lasted = time.monotonic() - self.outage_since
        self.outage_since = None
        now = self.clock()
        moved: list[int] = []

        async def bring_forward(session: AsyncSession) -> None:
            moved.append(await outbox.bring_forward(session, now))

        await self.write(bring_forward)
        log.info("Bot API answers again after %.0f s: %d waiting rows due now", lasted, moved[-1])
        return moved[-1]

    async def failed(self, row: OutboxMessage, exc: Exception) -> float | None:
        """The request failed: record its outcome. Returns the monotonic instant when the row
        is due again if it was put back for another attempt, else None."""
        now = self.clock()
        outcome = outcome_of(exc, row, self.limits, now)
        if outcome.cause is Cause.RATE_LIMITED:
            self.stats.rate_limited += 1
        elif outcome.cause is Cause.REFUSED:
            log.warning("outbox row %s refused: %s", row.id, outcome.error)
        elif outcome.cause is Cause.TIMED_OUT:
            self.stats.timeouts += 1
        elif outcome.cause is Cause.UNEXPECTED:
            log.error("unexpected error sending outbox row %s", row.id, exc_info=exc)
        elif outcome.cause is Cause.UNREACHABLE and self.outage_since is None:
            self.outage_since = time.monotonic()
            self.next_probe = self.outage_since + self.probe_every
        if outcome.status is OutboxStatus.BLOCKED:
            await self._blocked(row, outcome.error)
        elif outcome.not_before is not None:
            return await self._retry(row, outcome.not_before, outcome.error, now, outcome.timed_out)
        else:
            await self._final(row, outcome.status, outcome.error)
        return None

    async def _retry(
        self, row: OutboxMessage, not_before: datetime, error: str, now: datetime, timed_out: bool
    ) -> float:
        await self.write(
            lambda s: outbox.retry_later(s, row.id, not_before, error, now, timed_out=timed_out)
        )
        self.stats.retried += 1
        due_in = (not_before - now).total_seconds()
        return time.monotonic() + max(due_in, 0.0)

    async def _final(self, row: OutboxMessage, status: OutboxStatus, error: str) -> None:
        await self.write(lambda s: outbox.mark_final(s, row.id, status, error))
        if status is OutboxStatus.UNCERTAIN:
            self.stats.uncertain += 1
            log.warning("outbox row %s is uncertain: %s", row.id, error)
        elif status is OutboxStatus.FAILED:
            self.stats.failed += 1
            log.warning("outbox row %s failed: %s", row.id, error)

    async def _blocked(self, row: OutboxMessage, error: str) -> None:
        member_id = row.member_id

        async def block(session: AsyncSession) -> None:
            await outbox.mark_final(session, row.id, OutboxStatus.BLOCKED, error)
            if member_id is not None:
                await outbox.deactivate_member(session, member_id)

        await self.write(block)
        self.stats.blocked += 1
        if self.on_blocked is not None:
            try:
                await self.on_blocked(row.chat_id, member_id)
            except Exception:
                log.exception("on_blocked failed for outbox row %s", row.id)

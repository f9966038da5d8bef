"""The worker's records: each request's outcome committed right after the answer, counted, logged.

What the outcome is, `rules` decides; this carries it out, retrying the write if the database
fails. Answers that arrive together are marked sent in one commit (a group closes at
`GROUP_ROWS` answers or `GROUP_WINDOW` seconds after its first, whichever comes first), and
each answer's task waits for its group's commit, so a row is never reported sent before it
is. It also notices an outage of the Bot API and, when the API answers again, brings forward
the rows waiting out a long backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.delivery.rules import Cause, Limits, SendFailure, outcome_of
from storage import outbox
from storage.db import Database
from storage.models import Channel, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

OnBlocked = Callable[[int, int | None], Awaitable[None]]


class Answer(Protocol):
    """What the record of a sent row takes from the Bot API's answer (a Message)."""

    @property
    def message_id(self) -> int | None: ...


# A failed outcome write is retried: losing it would leave the row "sending" until the lease
# expires and then resend it, a duplicate.
_WRITE_ATTEMPTS = 3
# A group of "sent" marks: at most this many answers, committed at most this long after its
# first. A crash may repeat the requests in flight and the answers of the groups not yet
# committed; at 25 messages/s a 5 ms window holds one answer, rarely two.
GROUP_ROWS = 100
GROUP_WINDOW = 0.005


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


Write = Callable[[Callable[[AsyncSession], Awaitable[object]]], Awaitable[None]]


@dataclass(slots=True, eq=False)
class _Group:
    """Answers waiting for one commit that marks them all sent."""

    now: datetime  # when its first answer came: the rows' sent_at
    committed: asyncio.Future[None]
    timer: asyncio.TimerHandle | None = None
    answers: list[tuple[int, int | None]] = field(default_factory=list)


class SentGroups:
    """Marks answered rows sent in groups: one commit for the answers that arrive together."""

    def __init__(self, write: Write, clock: Callable[[], datetime], rows: int, window: float):
        self.write = write
        self.clock = clock
        self.rows = rows
        self.window = window
        self.commits = 0  # group commits made
        self._open: _Group | None = None
        self._committing: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """How many answers the open group holds (not yet being committed)."""
        return 0 if self._open is None else len(self._open.answers)

    async def sent(self, row_id: int, message_id: int | None) -> None:
        """Put the mark in the open group and return once that group is committed; raises
        what the commit finally raised (the row then stays "sending")."""
        group = self._open
        if group is None:
            loop = asyncio.get_running_loop()
            group = self._open = _Group(self.clock(), loop.create_future())
            group.timer = loop.call_later(self.window, self._close, group)
        group.answers.append((row_id, message_id))
        if len(group.answers) >= self.rows:
            self._close(group)
        # Shielded: a caller cancelled while it waits must not cancel the others' commit.
        await asyncio.shield(group.committed)

    def _close(self, group: _Group) -> None:
        """No more answers join this group: commit it (once)."""
        if self._open is not group:
            return
        self._open = None
        if group.timer is not None:
            group.timer.cancel()
        task = asyncio.create_task(self._commit(group))
        self._committing.add(task)
        task.add_done_callback(self._committing.discard)

    async def _commit(self, group: _Group) -> None:
        answers, now = group.answers, group.now
        try:
            await self.write(lambda s: outbox.mark_sent_many(s, answers, now))
        except asyncio.CancelledError:
            group.committed.cancel()  # the loop is closing: the rows stay "sending"
            raise
        except Exception as exc:
            group.committed.set_exception(exc)
            group.committed.exception()  # its callers raise it; nobody else needs to see it
        else:
            self.commits += 1
            group.committed.set_result(None)

    async def flush(self) -> None:
        """Commit the open group now and wait for every group being committed."""
        if self._open is not None:
            self._close(self._open)
        while self._committing:
            await asyncio.gather(*self._committing, return_exceptions=True)


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
        *,
        group_rows: int = GROUP_ROWS,
        group_window: float = GROUP_WINDOW,
        channel: Channel = Channel.TELEGRAM,
    ) -> None:
        self.db = db
        self.channel = channel
        self.limits = limits
        self.clock = clock
        self.stats = stats
        self.on_blocked = on_blocked
        self.probe_every = probe_every
        # Since when requests fail for want of a connection or with 5xx (None: they do not),
        # and when to ask getMe next whether the Bot API is back.
        self.outage_since: float | None = None
        self.next_probe = 0.0
        self.sent_groups = SentGroups(self.write, clock, group_rows, group_window)

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

    async def sent(self, row: OutboxMessage, message: Answer) -> int:
        """The answer came: sent, once its group is committed. Returns how many rows
        `api_back` made due (after an outage)."""
        await self.sent_groups.sent(row.id, message.message_id)
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
            moved.append(await outbox.bring_forward(session, now, self.channel))

        await self.write(bring_forward)
        log.info("Bot API answers again after %.0f s: %d waiting rows due now", lasted, moved[-1])
        return moved[-1]

    async def failed(self, row: OutboxMessage, failure: SendFailure) -> float | None:
        """The request failed: record its outcome. Returns the monotonic instant when the row
        is due again if it was put back for another attempt, else None."""
        now = self.clock()
        outcome = outcome_of(failure, row, self.limits, now)
        if outcome.cause is Cause.RATE_LIMITED:
            self.stats.rate_limited += 1
        elif outcome.cause is Cause.REFUSED:
            log.warning("outbox row %s refused: %s", row.id, outcome.error)
        elif outcome.cause is Cause.TIMED_OUT:
            self.stats.timeouts += 1
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
        member_id, now = row.member_id, self.clock()

        async def block(session: AsyncSession) -> None:
            await outbox.mark_final(session, row.id, OutboxStatus.BLOCKED, error)
            if member_id is not None:
                await outbox.deactivate_member(session, member_id, self.channel, now)

        await self.write(block)
        self.stats.blocked += 1
        if self.on_blocked is not None:
            try:
                await self.on_blocked(row.chat_id, member_id)
            except Exception:
                log.exception("on_blocked failed for outbox row %s", row.id)

"""Pacing: when the next request may start under Telegram's limits.

The global rate is a fixed spacing with no burst credit, so never more than the cap in any
second: kept in memory for one instance (SQLite), or a budget every instance takes from in
the database (PostgreSQL). Each chat has its own turn besides. All instants are monotonic.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque

from sqlalchemy.exc import DBAPIError

from scheduler.delivery.rules import Limits
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)

# Beyond this many remembered chats, forget those whose interval has long passed.
_CHAT_MEMORY = 10_000


class Pacer:
    """When the next request may start: fixed spacing. One instance (SQLite): the spacing is
    kept in memory."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    async def slot(self, wanted: int) -> float | None:
        """A monotonic instant for one request; `wanted` requests could go now."""
        start = max(self._next, time.monotonic())
        self._next = start + self.interval
        return start


class SharedPacer(Pacer):
    """Several instances (PostgreSQL): slots are taken in blocks from one database row that
    every instance moves forward, so that all of them together keep the one global rate."""

    def __init__(self, interval: float, db: Database, budget_row: int = 1) -> None:
        super().__init__(interval)
        self.db = db
        self.budget_row = budget_row  # each channel's budget is a row of its own
        self._slots: deque[float] = deque()

    async def slot(self, wanted: int) -> float | None:
        """None if the database could not be asked (the caller tries again later)."""
        now = time.monotonic()
        # A slot not taken within its interval is lost: slots used late would add up to a
        # burst above the cap.
        while self._slots and self._slots[0] < now - self.interval:
            self._slots.popleft()
        if not self._slots:
            try:
                async with self.db.write() as session:
                    start, database_now = await outbox.reserve_send_time(
                        session, wanted * self.interval, self.budget_row
                    )
                    here = time.monotonic()  # as near as can be to the database's `now`
            except DBAPIError:
                log.exception("reserving send slots failed")
                return None
            first = here + (start - database_now).total_seconds()
            self._slots.extend(first + i * self.interval for i in range(wanted))
        return self._slots.popleft()


def pacer_for(db: Database, limits: Limits, budget_row: int = 1) -> Pacer:
    """The global pacer of this backend: in memory on SQLite, shared on PostgreSQL (in the
    send budget's row `budget_row`, one per channel)."""
    interval = 1.0 / limits.global_per_second
    return Pacer(interval) if db.is_sqlite else SharedPacer(interval, db, budget_row)


def one_second_of(limits: Limits) -> int:
    """Rows to hold claimed: roughly one second of sending, so a crash leaves few unsent."""
    return max(1, min(limits.batch, max(limits.max_in_flight, math.ceil(limits.global_per_second))))


class ChatTurns:
    """When each chat may get its next request: one per `interval`, one at a time."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        # Monotonic instant from which a chat may get its next request; inf while a request
        # to it has been dispatched but has not started yet.
        self._ready: dict[int, float] = {}

    def ready_at(self, chat_id: int) -> float:
        """From when the chat may get a request (0: now)."""
        return self._ready.get(chat_id, 0.0)

    def hold(self, chat_id: int) -> None:
        """A request to the chat is dispatched: no other one until it has started."""
        self._ready[chat_id] = math.inf

    def free(self, chat_id: int) -> None:
        """The dispatched request did not start: the chat may get one at once."""
        self._ready[chat_id] = 0.0

    def started(self, chat_id: int) -> None:
        """A request to the chat leaves now: the next one waits out the interval."""
        self._ready[chat_id] = time.monotonic() + self.interval

    def forget_past(self, now: float) -> None:
        """Keep memory bounded: drop chats whose interval has passed, when there are many."""
        if len(self._ready) > _CHAT_MEMORY:
            self._ready = {k: v for k, v in self._ready.items() if v > now}

    def drop_holds(self) -> None:
        """At shutdown: requests dispatched but never started hold no chat any more."""
        self._ready = {k: v for k, v in self._ready.items() if v != math.inf}

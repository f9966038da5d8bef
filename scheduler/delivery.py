"""The outbox worker: claim due rows, send them under Telegram's limits, record each outcome.

Each row is marked "sending" in its own commit before its request leaves and marked with
its outcome in a new commit right after the answer; no transaction is ever held open
across a network request. Pacing and the 429 pause use the monotonic clock; the injected
`clock` only dates rows (not_before, sent_at), so tests may move it freely. On PostgreSQL
several instances may send at once: the global rate is a budget they share in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow

__all__ = ["DeliveryStats", "DeliveryWorker", "Limits", "OnBlocked", "retry_delay"]

log = logging.getLogger(__name__)

OnBlocked = Callable[[int, int | None], Awaitable[None]]

# Without a wake-up, look for rows enqueued by other processes (another instance) this often,
# and as often for rows a crashed instance left "sending" past the lease.
_POLL_SECONDS = 10.0
# A failed outcome write is retried: losing it would leave the row "sending" until the lease
# expires and then resend it, a duplicate.
_WRITE_ATTEMPTS = 3
# Beyond this many remembered chats, forget those whose interval has long passed.
_CHAT_MEMORY = 10_000
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


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


@dataclass(slots=True)
class _Job:
    """A claimed row waiting in memory for its turn."""

    row: OutboxMessage  # detached snapshot taken at claim time
    claimed: float  # monotonic


def retry_delay(limits: Limits, attempts: int) -> float:
    """Seconds before the next attempt of a row that has made `attempts` attempts."""
    backoff = limits.retry_backoff
    return float(backoff[min(max(attempts, 1), len(backoff)) - 1])


def _may_have_been_delivered(exc: TimedOut) -> bool:
    """False only when the timeout struck before the request could reach Telegram."""
    # PTB wraps httpx's exception as __cause__; connect and pool timeouts mean nothing was
    # written. Read/write timeouts, or an unknown cause, may have left a delivered message.
    return not isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


def _retry_after_seconds(exc: RetryAfter) -> float:
    """retry_after as seconds, whether PTB hands out an int or a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns about the int form; either form is handled below.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class _Pacer:
    """When the next request may start: fixed spacing, no burst credit, so never more than
    the cap in any second. One instance (SQLite): the spacing is kept in memory."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    async def slot(self, wanted: int) -> float | None:
        """A monotonic instant for one request; `wanted` requests could go now."""
        start = max(self._next, time.monotonic())
        self._next = start + self.interval
        return start


class _SharedPacer(_Pacer):
    """Several instances (PostgreSQL): slots are taken in blocks from one database row that
    every instance moves forward, so that all of them together keep the one global rate."""

    def __init__(self, interval: float, db: Database) -> None:
        super().__init__(interval)
        self.db = db
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
                        session, wanted * self.interval
                    )
                    here = time.monotonic()  # as near as can be to the database's `now`
            except DBAPIError:
                log.exception("reserving send slots failed")
                return None
            first = here + (start - database_now).total_seconds()
            self._slots.extend(first + i * self.interval for i in range(wanted))
        return self._slots.popleft()


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"


class DeliveryWorker:
    """Sends outbox rows under Telegram's limits: claim, send, retry, mark."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        limits: Limits = Limits(),  # frozen, so one shared default is safe
        clock: Callable[[], datetime] = utcnow,
        on_blocked: OnBlocked | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.limits = limits
        self.clock = clock
        self.on_blocked = on_blocked
        self.stats = DeliveryStats()

        interval = 1.0 / limits.global_per_second
        self._pacer = _Pacer(interval) if db.is_sqlite else _SharedPacer(interval, db)
        # Roughly one second of sending, so that a crash leaves few rows claimed but unsent.
        self._target = max(
            1, min(limits.batch, max(limits.max_in_flight, math.ceil(limits.global_per_second)))
        )
        self._queue: deque[_Job] = deque()
        # Monotonic instant from which a chat may get its next request; inf while a request
        # to it has been dispatched but has not started yet.
        self._chat_ready: dict[int, float] = {}
        self._gate_until = 0.0  # the 429 gate: no request starts before this instant
        self._sending = 0  # requests dispatched and not answered yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._refill: asyncio.Task[None] | None = None
        self._look_at = 0.0  # when to look for due rows again (0: now)
        # When a row put back since the last claim began falls due; kept apart from _look_at
        # so that a claim finishing later cannot overwrite it with an older next_due.
        self._retry_look = math.inf
        self._retrying: set[int] = set()  # rows this worker put back for a later attempt
        self._recovery_every = min(limits.lease / 2, _POLL_SECONDS)
        self._next_recovery = 0.0  # when to look for rows a crash left "sending"
        # The last claim took every due row (and `_drained_note` says what is left), and
        # whether anything was claimed since the worker last said it was idle.
        self._drained = False
        self._drained_note = ""
        self._busy = False
        # Since when requests fail for want of a connection or with 5xx (None: they do not),
        # and when to ask getMe next whether the Bot API is back.
        self._outage_since: float | None = None
        self._next_probe = 0.0
        self._changed = asyncio.Event()
        self._running = False

    # ------------------------------------------------------------------ public API

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, then finish the requests in flight."""
        await self._serve(stop, until_idle=False, include_retries=False)
        log.info("delivery worker stopped: %s", self.stats)

    def wake(self) -> None:
        """Something was enqueued: look for due rows now."""
        # _retry_look too: a claim in progress overwrites _look_at when it ends, but it only
        # resets _retry_look at its start, so this wake-up survives it.
        self._look_at = self._retry_look = 0.0
        self._changed.set()

    async def drain(self, timeout: float = 60, *, include_retries: bool = False) -> None:  # noqa: ASYNC109
        """Deliver until nothing due is pending and nothing is in flight, or TimeoutError."""
        # include_retries: also wait for the rows this drain put back for a later attempt
        # (tests, the demo), which the plain definition would leave pending.
        async with asyncio.timeout(timeout):
            await self._serve(asyncio.Event(), until_idle=True, include_retries=include_retries)

    # ------------------------------------------------------------------ the loop

    async def _serve(self, stop: asyncio.Event, *, until_idle: bool, include_retries: bool) -> None:
        if self._running:
            raise RuntimeError("this DeliveryWorker is already running")
        self._running = True
        self._next_recovery = 0.0
        try:
            while not stop.is_set():
                # Cleared before looking, so any change from here on ends the wait below.
                self._changed.clear()
                now = time.monotonic()
                if now >= self._next_recovery:
                    # At start, then often: another instance may have crashed while this runs.
                    self._next_recovery = now + self._recovery_every
                    await self._recover()
                await self._housekeeping(now)
                self._maybe_refill(now)
                self._note_idle()
                if self._gate_until > now:
                    # In steps, so that held rows are still given back in a long pause.
                    await self._wait(stop, min(self._gate_until - now, _POLL_SECONDS))
                    continue
                if self._sending < self.limits.max_in_flight:
                    job = self._pick(now)
                    if job is not None:
                        await self._dispatch(job, stop)
                        continue
                if until_idle and await self._idle(include_retries):
                    return
                await self._wait(stop, self._wait_seconds(now))
        finally:
            await self._shutdown()

    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        """Until something changes, `stop` is set or `seconds` pass."""
        waiters = [
            asyncio.ensure_future(self._changed.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        try:
            await asyncio.wait(
                waiters, timeout=max(seconds, 0.001), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _wait_seconds(self, now: float) -> float:
        """How long nothing can happen unless something changes."""
        deadlines = [self._look_time(), self._next_recovery, now + _POLL_SECONDS]
        deadlines += [self._chat_ready.get(job.row.chat_id, 0.0) for job in self._queue]
        return min(deadlines) - now

    async def _idle(self, include_retries: bool) -> bool:
        """True when a drain is done."""
        if self._queue or self._tasks or self._refill is not None:
            return False
        if self._look_time() <= time.monotonic():
            return False  # not looked at the outbox since the last change
        if not include_retries or not self._retrying:
            return True
        async with self.db.read() as session:
            still = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(self._retrying),
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
            )
        if not still:
            self._retrying.clear()  # taken by another worker, or finished
        return not still

    async def _shutdown(self) -> None:
        if self._refill is not None:
            await asyncio.gather(self._refill, return_exceptions=True)
        # Requests in flight finish and are recorded; claimed rows not sent go back.
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        jobs, self._queue = list(self._queue), deque()
        await self._release(jobs)
        self._chat_ready = {k: v for k, v in self._chat_ready.items() if v != math.inf}
        self._running = False

    # ------------------------------------------------------------------ claiming

    async def _recover(self) -> None:
        lease = timedelta(seconds=self.limits.lease)
        try:
            async with self.db.write() as session:
                count = await outbox.recover_abandoned(session, self.clock(), lease)
        except DBAPIError:
            log.exception("recovering abandoned outbox rows failed")
            return
        if count:
            self.stats.recovered += count
            self._look_at = self._retry_look = 0.0  # they are due: look now (see wake)
            self._drained = False
            log.warning("%d outbox rows were left sending by a crash; sending them again", count)

    def _note_idle(self) -> None:
        """Say once, after sending, that nothing is left in hand (an operator's "done")."""
        if self._busy and self._drained and not (self._queue or self._tasks or self._refill):
            self._busy = False
            log.info("outbox idle, %d sent so far: %s", self.stats.sent, self._drained_note)

    def _maybe_refill(self, now: float) -> None:
        """Claim more rows in the background when about a second's worth is not ready."""
        if self._refill is not None or now < self._look_time():
            return
        ready = sum(1 for job in self._queue if self._chat_ready.get(job.row.chat_id, 0.0) <= now)
        # A hard cap on rows held in memory: rows waiting on their chat must not pile up.
        room = max(self.limits.batch, self._target) - len(self._queue)
        if ready * 2 > self._target or room <= 0:
            return
        limit = min(self.limits.batch, self._target - ready, room)
        self._refill = asyncio.create_task(self._claim(limit))

    def _look_time(self) -> float:
        return min(self._look_at, self._retry_look)

    async def _claim(self, limit: int) -> None:
        """Claim up to `limit` due rows: they are "sending" once this commit is done."""
        # Rows put back before this point are seen by this claim or its next_due below.
        self._retry_look = math.inf
        try:
            now = self.clock()
            async with self.db.write() as session:
                rows = await outbox.claim(session, now, limit)
            stamp = time.monotonic()
            for row in rows:
                self._retrying.discard(row.id)
                self._queue.append(_Job(row, stamp))
            self._busy = self._busy or bool(rows)
            self._drained = len(rows) < limit
            if self._drained:
                async with self.db.read() as session:
                    due = await outbox.next_due(session)
                wait = _POLL_SECONDS if due is None else (due - self.clock()).total_seconds()
                # A due row not claimed was locked by another worker: look again shortly.
                self._look_at = stamp + min(max(wait, 0.2), _POLL_SECONDS)
                self._drained_note = "nothing pending" if due is None else f"next due {due}"
        except DBAPIError:
            self._drained = False
            log.exception("claiming outbox rows failed")
            self._look_at = time.monotonic() + 1.0
        finally:
            self._refill = None
            self._changed.set()

    async def _release(self, jobs: list[_Job]) -> None:
        """Claimed rows that will not be sent by this worker go back to pending."""
        if not jobs:
            return

        async def release(session: AsyncSession) -> None:
            for job in jobs:
                row = await session.get(OutboxMessage, job.row.id)
                if row is not None and row.status is OutboxStatus.SENDING:
                    row.status = OutboxStatus.PENDING
                    row.sending_since = None
                    row.attempts = max(0, row.attempts - 1)  # never tried, so not an attempt

        await self._write(release)

    async def _housekeeping(self, now: float) -> None:
        """Give back rows held too long; forget chats whose interval has long passed; during
        an outage, ask the Bot API every few seconds whether it is back."""
        if self._outage_since is not None and now >= self._next_probe:
            self._next_probe = now + _POLL_SECONDS
            with contextlib.suppress(Exception):  # still down: the backoff goes on
                await self.bot.get_me()
                await self._api_back()
        if len(self._chat_ready) > _CHAT_MEMORY:
            self._chat_ready = {k: v for k, v in self._chat_ready.items() if v > now}
        # Rows held back (by their chat or a 429) for half the lease go back to pending, so
        # that lease recovery elsewhere can never take a row this worker is about to send.
        horizon = now - self.limits.lease / 2
        stale = [job for job in self._queue if job.claimed < horizon]
        if stale:
            self._queue = deque(job for job in self._queue if job.claimed >= horizon)
            await self._release(stale)
            self._look_at = 0.0

    # ------------------------------------------------------------------ sending

    def _pick(self, now: float) -> _Job | None:
        """The oldest claimed row whose chat may receive now; others' rows go on meanwhile."""
        for index, job in enumerate(self._queue):
            if self._chat_ready.get(job.row.chat_id, 0.0) <= now:
                del self._queue[index]
                self._chat_ready[job.row.chat_id] = math.inf
                return job
        return None

    async def _dispatch(self, job: _Job, stop: asyncio.Event) -> None:
        """Wait for the next pacing slot, then start the request in its own task."""
        now = time.monotonic()
        ready = sum(1 for other in self._queue if self._chat_ready.get(other.row.chat_id, 0) <= now)
        start = await self._pacer.slot(min(1 + ready, self._target))
        if start is None:
            self._requeue(job)
            await self._wait_for(stop, 1.0)
            return
        delay = start - time.monotonic()
        if delay > 0:
            await self._wait_for(stop, delay)
        if stop.is_set() or self._gate_until > time.monotonic():
            self._requeue(job)
            return
        self._sending += 1
        task = asyncio.create_task(self._deliver(job))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _wait_for(stop: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    def _requeue(self, job: _Job) -> None:
        self._queue.appendleft(job)
        self._chat_ready[job.row.chat_id] = 0.0

    async def _deliver(self, job: _Job) -> None:
        """One request and the commit of its outcome."""
        try:
            outcome = await self._request(job)
            if outcome is None:
                return
            if isinstance(outcome, Message):
                await self._record_sent(job.row, outcome)
            else:
                await self._record_failure(job.row, outcome)
        except Exception:
            # The row stays "sending" and comes back after the lease, counted as a resend.
            log.exception("recording the outcome of outbox row %s failed", job.row.id)
        finally:
            self._changed.set()

    async def _request(self, job: _Job) -> Message | Exception | None:
        """Send the row; None if a 429 closed the gate since it was dispatched."""
        try:
            # The single gate every request passes right before it leaves: a 429 may have
            # been answered since the dispatcher let this one through.
            if self._gate_until > time.monotonic():
                self._requeue(job)
                return None
            self._chat_ready[job.row.chat_id] = time.monotonic() + self.limits.per_chat_interval
            self.stats.requests += 1
            try:
                return await self._send(job.row)
            except RetryAfter as exc:
                # From the moment the answer arrived, before anything else can run.
                seconds = _retry_after_seconds(exc)
                self._gate_until = max(self._gate_until, time.monotonic() + seconds)
                return exc
            except Exception as exc:
                return exc
        finally:
            self._sending -= 1

    async def _send(self, row: OutboxMessage) -> Message:
        if row.document_file_id:
            return await self.bot.send_document(
                row.chat_id,
                row.document_file_id,
                caption=row.text or None,
                parse_mode=ParseMode.HTML,
            )
        return await self.bot.send_message(
            row.chat_id, row.text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW
        )

    # ------------------------------------------------------------------ outcomes

    async def _write(self, action: Callable[[AsyncSession], Awaitable[object]]) -> None:
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

    async def _record_sent(self, row: OutboxMessage, message: Message) -> None:
        now = self.clock()
        await self._write(lambda s: outbox.mark_sent(s, row.id, now, message.message_id))
        self.stats.sent += 1
        if self._outage_since is not None:
            await self._api_back()

    async def _api_back(self) -> None:
        """After an outage, what waits out a long backoff goes now rather than in minutes."""
        if self._outage_since is None:
            return
        lasted = time.monotonic() - self._outage_since
        self._outage_since = None
        now = self.clock()
        moved: list[int] = []

        async def bring_forward(session: AsyncSession) -> None:
            moved.append(await outbox.bring_forward(session, now))

        await self._write(bring_forward)
        log.info("Bot API answers again after %.0f s: %d waiting rows due now", lasted, moved[-1])
        if moved[-1]:
            self._look_at = self._retry_look = 0.0
            self._drained = False

    async def _record_failure(self, row: OutboxMessage, exc: Exception) -> None:
        now = self.clock()
        error = _describe(exc)
        if isinstance(exc, RetryAfter):
            self.stats.rate_limited += 1
            not_before = now + timedelta(seconds=_retry_after_seconds(exc))
            await self._retry(row, not_before, error, now)
        elif isinstance(exc, Forbidden):
            await self._record_blocked(row, error)
        elif isinstance(exc, BadRequest):
            log.warning("outbox row %s refused: %s", row.id, error)
            await self._final(row, OutboxStatus.FAILED, error)
        elif isinstance(exc, TimedOut) and _may_have_been_delivered(exc):
            self.stats.timeouts += 1
            if row.timeouts >= 1:
                # Retried once already: a third delivery is worse than a reported doubt.
                await self._final(row, OutboxStatus.UNCERTAIN, error)
            else:
                not_before = now + timedelta(seconds=self.limits.timeout_pause)
                await self._retry(row, not_before, error, now, timed_out=True)
        else:
            if not isinstance(exc, NetworkError):
                log.error("unexpected error sending outbox row %s", row.id, exc_info=exc)
            elif self._outage_since is None:
                self._outage_since = time.monotonic()
                self._next_probe = self._outage_since + _POLL_SECONDS
            elapsed = (now - row.first_error_at).total_seconds() if row.first_error_at else 0.0
            if row.first_error_at is not None and elapsed >= self.limits.give_up_after:
                await self._final(row, OutboxStatus.FAILED, error)
            else:
                not_before = now + timedelta(seconds=retry_delay(self.limits, row.attempts))
                await self._retry(row, not_before, error, now)

    async def _retry(
        self,
        row: OutboxMessage,
        not_before: datetime,
        error: str,
        now: datetime,
        *,
        timed_out: bool = False,
    ) -> None:
        await self._write(
            lambda s: outbox.retry_later(s, row.id, not_before, error, now, timed_out=timed_out)
        )
        self.stats.retried += 1
        self._drained = False  # put back: not done with it
        self._retrying.add(row.id)
        # Look again when it is due, not only at the next poll.
        due_in = (not_before - now).total_seconds()
        self._retry_look = min(self._retry_look, time.monotonic() + max(due_in, 0.0))

    async def _final(self, row: OutboxMessage, status: OutboxStatus, error: str) -> None:
        await self._write(lambda s: outbox.mark_final(s, row.id, status, error))
        if status is OutboxStatus.UNCERTAIN:
            self.stats.uncertain += 1
            log.warning("outbox row %s to chat %s is uncertain: %s", row.id, row.chat_id, error)
        elif status is OutboxStatus.FAILED:
            self.stats.failed += 1
            log.warning("outbox row %s to chat %s failed: %s", row.id, row.chat_id, error)

    async def _record_blocked(self, row: OutboxMessage, error: str) -> None:
        member_id = row.member_id

        async def block(session: AsyncSession) -> None:
            await outbox.mark_final(session, row.id, OutboxStatus.BLOCKED, error)
            if member_id is not None:
                await outbox.deactivate_member(session, member_id)

        await self._write(block)
        self.stats.blocked += 1
        if self.on_blocked is not None:
            try:
                await self.on_blocked(row.chat_id, member_id)
            except Exception:
                log.exception("on_blocked failed for chat %s", row.chat_id)

"""The outbox worker: claim due rows, send them under Telegram's limits, record each outcome.

Each row is marked "sending" in the commit that claims it, before its request leaves, and
marked with its outcome right after the answer: "sent" in a commit shared with the other
answers of the same few milliseconds (records.py), any other outcome in its own; no
transaction is ever held open across a network request. Pacing and the 429 pause use the
monotonic clock; the injected `clock` only dates rows (not_before, sent_at), so tests may
move it freely. On PostgreSQL
several instances may send at once: the global rate is a budget they share in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError
from telegram import Bot

from scheduler.delivery.budget import BulkSlots, SendBudget
from scheduler.delivery.channels import BUDGET_ROWS, Sender, TelegramSender
from scheduler.delivery.pacing import ChatTurns, one_second_of, pacer_for
from scheduler.delivery.records import Answer, DeliveryStats, OnBlocked, Recorder
from scheduler.delivery.rules import Cause, Limits, SendFailure
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

# Without a wake-up, look for rows enqueued by other processes (another instance) this often,
# and as often for rows a crashed instance left "sending" past the lease.
_POLL_SECONDS = 10.0
_TELEGRAM = Limits()  # frozen, so one shared default is safe


@dataclass(slots=True)
class _Job:
    """A claimed row waiting in memory for its turn."""

    row: OutboxMessage  # detached snapshot taken at claim time
    claimed: float  # monotonic


class DeliveryWorker:
    """Sends one channel's outbox rows under its limits: claim, send, retry, mark."""

    def __init__(
        self,
        db: Database,
        bot: Bot | Sender,
        *,
        limits: Limits = _TELEGRAM,
        clock: Callable[[], datetime] = utcnow,
        on_blocked: OnBlocked | None = None,
        budget: SendBudget | None = None,
    ) -> None:
        self.db = db
        # A Telegram bot is its channel; any other channel comes as its Sender.
        self.sender: Sender = TelegramSender(bot) if isinstance(bot, Bot) else bot
        self.channel = self.sender.channel
        self.limits = limits
        self.clock = clock
        self.stats = DeliveryStats()
        self._recorder = Recorder(
            db, limits, clock, self.stats, on_blocked, _POLL_SECONDS, channel=self.channel
        )

        # With the bot's send budget, the worker's slots are its bulk slots (replies first);
        # alone (tests, tools, a channel without replies to share with), it paces itself.
        self._pacer = (
            pacer_for(db, limits, BUDGET_ROWS[self.channel])
            if budget is None
            else BulkSlots(budget)
        )
        self._spacing = self._pacer.interval  # between two requests as they leave
        self._last_left = 0.0
        self._target = one_second_of(limits)
        self._queue: deque[_Job] = deque()
        self._turns = ChatTurns(limits.per_chat_interval)
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
        self._changed = asyncio.Event()
        self._running = False

    # ------------------------------------------------------------------ public API

    @property
    def on_blocked(self) -> OnBlocked | None:
        """Told (chat id, member id) once a row is recorded blocked: someone blocked the bot."""
        return self._recorder.on_blocked

    @on_blocked.setter
    def on_blocked(self, callback: OnBlocked | None) -> None:
        self._recorder.on_blocked = callback

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
        deadlines += [self._turns.ready_at(job.row.chat_id) for job in self._queue]
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
            still = await outbox.count_pending(session, self._retrying)
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
        self._turns.drop_holds()
        self._running = False

    # ------------------------------------------------------------------ claiming

    async def _recover(self) -> None:
        lease = timedelta(seconds=self.limits.lease)
        try:
            async with self.db.write() as session:
                count = await outbox.recover_abandoned(session, self.clock(), lease, self.channel)
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
        ready = self._ready(now)
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
                rows = await outbox.claim(session, now, limit, self.channel)
            stamp = time.monotonic()
            for row in rows:
                self._retrying.discard(row.id)
                self._queue.append(_Job(row, stamp))
            self._busy = self._busy or bool(rows)
            self._drained = len(rows) < limit
            if self._drained:
                async with self.db.read() as session:
                    due = await outbox.next_due(session, self.channel)
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
        if jobs:
            ids = [job.row.id for job in jobs]
            await self._recorder.write(lambda s: outbox.release_unsent(s, ids))

    async def _housekeeping(self, now: float) -> None:
        """Give back rows held too long; forget chats whose interval has long passed; during
        an outage, ask the Bot API every few seconds whether it is back."""
        recorder = self._recorder
        if recorder.outage_since is not None and now >= recorder.next_probe:
            recorder.next_probe = now + _POLL_SECONDS
            with contextlib.suppress(Exception):  # still down: the backoff goes on
                await self.sender.probe()
                self._brought_forward(await recorder.api_back())
        self._turns.forget_past(now)
        # Rows held back (by their chat or a 429) for half the lease go back to pending, so
        # that lease recovery elsewhere can never take a row this worker is about to send.
        horizon = now - self.limits.lease / 2
        stale = [job for job in self._queue if job.claimed < horizon]
        if stale:
            self._queue = deque(job for job in self._queue if job.claimed >= horizon)
            await self._release(stale)
            self._look_at = 0.0

    # ------------------------------------------------------------------ sending

    def _ready(self, now: float) -> int:
        """How many claimed rows could be sent now, as far as their chats go."""
        return sum(1 for job in self._queue if self._turns.ready_at(job.row.chat_id) <= now)

    def _pick(self, now: float) -> _Job | None:
        """The oldest claimed row whose chat may receive now; others' rows go on meanwhile."""
        for index, job in enumerate(self._queue):
            if self._turns.ready_at(job.row.chat_id) <= now:
                del self._queue[index]
                self._turns.hold(job.row.chat_id)
                return job
        return None

    async def _dispatch(self, job: _Job, stop: asyncio.Event) -> None:
        """Wait for the next pacing slot, then start the request in its own task."""
        now = time.monotonic()
        start = await self._pacer.slot(min(1 + self._ready(now), self._target))
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
        self._turns.free(job.row.chat_id)

    async def _deliver(self, job: _Job) -> None:
        """One request and the commit of its outcome."""
        try:
            outcome = await self._request(job)
            if outcome is None:
                return
            if isinstance(outcome, SendFailure):
                self._put_back(job.row, await self._recorder.failed(job.row, outcome))
            else:
                self._brought_forward(await self._recorder.sent(job.row, outcome))
        except Exception:
            # The row stays "sending" and comes back after the lease, counted as a resend.
            log.exception("recording the outcome of outbox row %s failed", job.row.id)
        finally:
            self._changed.set()

    async def _request(self, job: _Job) -> Answer | SendFailure | None:
        """Send the row; None if a 429 closed the gate since it was dispatched."""
        try:
            # A stall of the event loop can start two dispatched requests together: each
            # keeps the spacing from the one before as it leaves, not only as it is planned.
            now = time.monotonic()
            leave = max(now, self._last_left + self._spacing)
            self._last_left = leave
            if leave > now:
                await asyncio.sleep(leave - now)
            # The single gate every request passes right before it leaves: a 429 may have
            # been answered since the dispatcher let this one through.
            if self._gate_until > time.monotonic():
                self._requeue(job)
                return None
            self._turns.started(job.row.chat_id)
            self.stats.requests += 1
            try:
                return await self.sender.send(job.row)
            except Exception as exc:
                failure = self.sender.failure(exc)
                if failure.cause is Cause.UNEXPECTED:
                    log.error("unexpected error sending outbox row %s", job.row.id, exc_info=exc)
                if failure.cause is Cause.RATE_LIMITED:
                    # From the moment the answer arrived, before anything else can run.
                    pause = failure.retry_after or 0.0
                    self._gate_until = max(self._gate_until, time.monotonic() + pause)
                return failure
        finally:
            self._sending -= 1

    def _put_back(self, row: OutboxMessage, due: float | None) -> None:
        """The row went back to pending, due again at the monotonic instant `due` (if any)."""
        if due is None:
            return
        self._drained = False  # put back: not done with it
        self._retrying.add(row.id)
        # Look again when it is due, not only at the next poll.
        self._retry_look = min(self._retry_look, due)

    def _brought_forward(self, moved: int) -> None:
        """After an outage, rows waiting out a backoff were made due: look for them now."""
        if moved:
            self._look_at = self._retry_look = 0.0
            self._drained = False

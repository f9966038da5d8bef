"""One send budget for the whole bot: replies, edits, documents and pushes (PRODUCT §8).

Telegram counts every message a bot sends, whatever made it: ~30 a second in all, about one
a second to one chat beyond a short burst. The outbox worker always kept under that; replies
did not, so a burst of replies (an office that invites a department and 150 people press
/start at once) drew 429s that nobody waited out. Here every message takes a slot:

- the global rate is a fixed spacing without burst credit (a `Pacer`; shared in the database
  across instances on PostgreSQL, as the worker's always was), granted in order of priority:
  a reply to a person before a bulk push, so a broadcast never makes a person wait;
- each chat has a GCRA budget (a burst, then one per `chat_interval`), pushes included;
- a 429 closes the gate for everyone for exactly the time Telegram asked.

python-telegram-bot's `AIORateLimiter` is the ecosystem's answer and the model here (one
limiter under every request; a 429 waited out, then the request sent again), but it has no
priorities, no budget shared between processes, and its leaky bucket lets a full bucket of
requests go at once on top of the steady rate, which is what Telegram's flood control
answers with 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass

from scheduler.delivery.pacing import Pacer

log = logging.getLogger(__name__)

# Beyond this many remembered chats, forget those whose budget is full again.
_CHAT_MEMORY = 10_000


@dataclass(frozen=True, slots=True)
class Budget:
    """How fast the bot may send: in all, and to one chat (seconds unless said otherwise)."""

    per_second: float = 25.0
    chat_interval: float = 1.0  # one message a second to one chat ...
    chat_burst: int = 20  # ... after a burst of this many (the emulator's default tolerance)

    @classmethod
    def unlimited(cls) -> Budget:
        """No pacing at all: for a Bot API without flood control (an emulator so set)."""
        return cls(per_second=math.inf, chat_interval=0.0, chat_burst=1)

    @property
    def paces(self) -> bool:
        """Whether anything is paced."""
        return math.isfinite(self.per_second)


class SendBudget:
    """The slots every message of the bot takes (see the module's text)."""

    def __init__(self, pacer: Pacer, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self._pacer = pacer
        self._fallback_next = 0.0  # spacing alone, if the shared budget cannot be asked
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (
            deque(),  # replies
            deque(),  # bulk
        )
        self._granter: asyncio.Task[None] | None = None
        self._expected_bulk = 1
        self._gate = 0.0  # monotonic instant before which nothing may leave (a 429)
        # Per chat: the GCRA's theoretical arrival time (monotonic).
        self._chats: dict[int, float] = {}
        self.granted = [0, 0]  # replies, bulk: slots given so far
        self.paused = 0  # 429s that closed the gate

    # ------------------------------------------------------------------ per chat

    def chat_delay(self, chat_id: int) -> float:
        """Reserve the chat's next turn; how many seconds from now it is."""
        now = time.monotonic()
        interval = self.budget.chat_interval
        tolerance = (self.budget.chat_burst - 1) * interval
        tat = self._chats.get(chat_id, now)
        start = max(now, tat - tolerance)
        self._chats[chat_id] = max(tat, start) + interval
        if len(self._chats) > _CHAT_MEMORY:
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        return start - now

    # ------------------------------------------------------------------ in all

    async def take(self, chat_id: int | None, *, bulk: bool = False) -> None:
        """Wait until one message to `chat_id` may leave (None: no chat, e.g. an inline edit)."""
        if not self.budget.paces:
            return
        if chat_id is not None:
            delay = self.chat_delay(chat_id)
            if delay > 0:
                await asyncio.sleep(delay)
        await self.take_global(bulk=bulk)

    async def take_global(self, *, bulk: bool, expected: int = 1) -> None:
        """Wait for a slot of the global rate; replies are served before bulk. `expected`:
        how many more bulk slots the caller will want soon (the shared budget is asked for
        them in one go)."""
        if not self.budget.paces:
            return
        if bulk:
            self._expected_bulk = expected
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[1 if bulk else 0]
        queue.append(waiter)
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant(), name="send-budget")
        try:
            await waiter
        except asyncio.CancelledError:
            with contextlib.suppress(ValueError):
                queue.remove(waiter)
            raise

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing leaves for `seconds` from now."""
        self.paused += 1
        self._gate = max(self._gate, time.monotonic() + seconds)

    @property
    def gate_seconds(self) -> float:
        """Seconds the gate stays closed (0: open)."""
        return max(0.0, self._gate - time.monotonic())

    async def _grant(self) -> None:
        """Give one slot at a time, each at its instant, to the first waiter by priority."""
        replies, bulk = self._waiting
        while replies or bulk:
            # The worker's expected slots count only while it waits: a reply alone must not
            # reserve (and lose) a second of the shared budget other instances need.
            expected = max(len(bulk), self._expected_bulk) if bulk else 0
            start = await self._slot(max(1, len(replies) + expected))
            # A 429 meanwhile moves the gate: look again after each wait.
            while (wait := max(start, self._gate) - time.monotonic()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
            for index, queue in enumerate(self._waiting):  # replies first
                waiter = self._first_waiting(queue)
                if waiter is not None:
                    waiter.set_result(None)
                    self.granted[index] += 1
                    break

    async def _slot(self, wanted: int) -> float:
        try:
            start = await self._pacer.slot(wanted)
        except Exception:
            log.exception("the shared send budget could not be asked; pacing alone")
            start = None
        if start is None:  # this instance alone keeps the rate meanwhile
            start = max(self._fallback_next, time.monotonic())
            self._fallback_next = start + self._pacer.interval
        return start

    @staticmethod
    def _first_waiting(queue: deque[asyncio.Future[None]]) -> asyncio.Future[None] | None:
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                return waiter
        return None


class BulkSlots(Pacer):
    """The outbox worker's pacer when it shares the bot's budget: each of its slots is a bulk
    slot of the budget, given when it is due (so the instant returned is now)."""

    def __init__(self, budget: SendBudget) -> None:
        super().__init__(0.0 if not budget.budget.paces else 1.0 / budget.budget.per_second)
        self.send_budget = budget

    async def slot(self, wanted: int) -> float | None:
        """Now, once the budget gave a bulk slot; `wanted` slots could be used soon."""
        await self.send_budget.take_global(bulk=True, expected=wanted)
        return time.monotonic()

"""The Zalo channel of a running bot (PRODUCT §12): its outbox worker, and the texts people
send the Zalo bot, taken by long polling or from the webhook and answered.

Replies go straight out (a person is waiting); pushes go through the outbox with the
channel's own pacing (scheduler/delivery/channels.ZALO_LIMITS). An answer that cannot be sent
is logged and dropped: the person asks again. The platform may deliver one message twice
(webhook retries): message ids seen lately are remembered and a repeat is not answered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from handlers.runtime import Runtime
from handlers.zalo_chat import ZaloText, converse, not_text
from scheduler.delivery import DeliveryWorker
from scheduler.delivery.channels import ZALO_LIMITS, ZaloSender
from scheduler.delivery.zalo import Incoming, ZaloClient, ZaloError
from storage.state import set_state

log = logging.getLogger(__name__)

ZALO_BOT_NAME = "zalo_bot_name"  # app_state: the Zalo bot's name, for /kenh on Telegram
_POLL_WAIT = 30  # seconds a getUpdates may wait for a message
_SEEN = 2_000  # message ids remembered against a second delivery
_AT_ONCE = 8  # messages answered at the same time (one at a time per person)
_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)  # polling after failures, then the last repeated


class ZaloBot:
    """One Zalo bot: the worker of its outbox rows and the answers to its messages."""

    def __init__(
        self, runtime: Runtime, client: ZaloClient, *, poll_wait: int = _POLL_WAIT
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.poll_wait = poll_wait
        self.worker = DeliveryWorker(
            runtime.db, ZaloSender(client), limits=ZALO_LIMITS, clock=runtime.clock
        )
        self.inbox: asyncio.Queue[Incoming] = asyncio.Queue()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._people: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(_AT_ONCE)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self.answered = 0  # messages answered (tests and the demo wait on it)
        self._answered = asyncio.Condition()

    async def start(self, *, webhook: tuple[str, str] | None = None, deliver: bool) -> None:
        """Take messages by the webhook (url, secret) or by polling; with `deliver`, run the
        outbox worker too (the sandbox drains it by hand). The platform is asked who the bot
        is first; while it cannot be reached, that is tried again in the background, and
        the worker waits out the outage on its own."""
        if deliver:
            self._spawn(self.worker.run(self._stop), "zalo-delivery")
        self._spawn(self._answer_all(), "zalo-answers")
        try:
            await self._connect(webhook)
        except ZaloError as error:
            log.error("Zalo Bot API not reachable at start (%s); trying again", error)
            self._spawn(self._connect_later(webhook), "zalo-poll")

    async def _connect(self, webhook: tuple[str, str] | None) -> None:
        me = await self.client.get_me()
        async with self.runtime.db.write() as session:
            name = str(me.get("account_name") or me.get("display_name") or "")
            await set_state(session, ZALO_BOT_NAME, name[:200])
        if webhook is None:
            await self.client.delete_webhook()
            self._spawn(self._poll(), "zalo-poll")
        else:
            await self.client.set_webhook(*webhook)
        log.info("Zalo bot %s ready (%s)", name, "webhook" if webhook else "polling")

    async def _connect_later(self, webhook: tuple[str, str] | None) -> None:
        failures = 0
        while not self._stop.is_set():
            pause = _BACKOFF[min(failures, len(_BACKOFF) - 1)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)
            try:
                await self._connect(webhook)
                return
            except ZaloError as error:
                failures += 1
                log.warning("Zalo Bot API still not reachable (%s)", error)

    async def stop(self) -> None:
        """Stop taking messages; the worker finishes its requests in flight."""
        self._stop.set()
        for task in list(self._tasks):
            if task.get_name() in ("zalo-poll", "zalo-answers"):
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ messages in

    def take(self, incoming: Incoming) -> None:
        """A message from the webhook (or the poll): answered in the background."""
        self.inbox.put_nowait(incoming)

    async def _poll(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                incoming = await self.client.get_updates(self.poll_wait)
                failures = 0
            except ZaloError as error:
                pause = _BACKOFF[min(failures, len(_BACKOFF) - 1)]
                failures += 1
                log.warning("Zalo getUpdates failed (%s); again in %.0f s", error, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), pause)
                continue
            if incoming is not None:
                self.take(incoming)

    async def _answer_all(self) -> None:
        while True:
            incoming = await self.inbox.get()
            await self._slots.acquire()
            task = asyncio.create_task(self._answer(incoming))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(lambda _t: self._slots.release())

    async def _answer(self, incoming: Incoming) -> None:
        try:
            if self._repeated(incoming):
                return  # a second delivery of a message already answered
            lock = self._people.setdefault(incoming.user_id, asyncio.Lock())
            async with lock:
                # A picture, a sticker, a file: one line saying where such things go.
                answers = (
                    not_text()
                    if incoming.text is None
                    else await converse(
                        self.runtime,
                        ZaloText(incoming.user_id, incoming.chat_id, incoming.name, incoming.text),
                    )
                )
                for text in answers:
                    await self.client.send_message(incoming.chat_id, text)
        except ZaloError as error:
            log.warning("a Zalo answer could not be sent: %s", error)
        except Exception:
            log.exception("a Zalo message could not be answered")
        finally:
            if not self._people.get(incoming.user_id, asyncio.Lock()).locked():
                self._people.pop(incoming.user_id, None)
            async with self._answered:
                self.answered += 1
                self._answered.notify_all()

    def _repeated(self, incoming: Incoming) -> bool:
        key = incoming.message_id
        if not key:
            return False
        if key in self._seen:
            return True
        self._seen[key] = None
        while len(self._seen) > _SEEN:
            self._seen.popitem(last=False)
        return False

    async def wait_answered(self, count: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Until `count` messages in all have been answered (or dropped)."""
        async with asyncio.timeout(timeout), self._answered:
            await self._answered.wait_for(lambda: self.answered >= count)

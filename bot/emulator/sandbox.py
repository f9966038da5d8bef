"""The real Application running against the built-in emulator, with people who talk to it.

Used by the test suite and by `thiduabot demo`: each person's message goes over HTTP
through the emulator to the bot, and `say()` returns once the bot has handled it (the
chat's conversation step stored too).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from telegram import Update

from bot.app import (
    BotApplication,
    build_application,
    on_shutdown,
    on_startup,
)
from bot.config import Settings
from bot.emulator import BotApiEmulator, BotMessage, EmulatedUser
from bot.emulator.zalo import ZaloEmulator, ZaloUser
from scheduler.delivery.budget import Budget
from storage.db import Database


@dataclass(slots=True)
class Reply:
    """What the bot did in answer to one action: its new messages and any button pop-up."""

    messages: list[BotMessage] = field(default_factory=list)
    alert: str | None = None

    @property
    def text(self) -> str:
        """Every new message's plain text, joined by blank lines."""
        return "\n\n".join(m.text for m in self.messages)

    @property
    def last(self) -> BotMessage:
        """The newest message of this reply."""
        if not self.messages:
            raise LookupError("the bot sent no message in reply")
        return self.messages[-1]


class Person:
    """A Telegram user acting through the emulator and waiting for the bot's answer."""

    def __init__(self, sandbox: Sandbox, user: EmulatedUser) -> None:
        self.sandbox = sandbox
        self.user = user
        self.id = user.id

    async def say(self, text: str) -> Reply:
        """Send a text (or a command) and return the bot's answer."""
        return await self._act(lambda: self.user.send(text))

    async def send_document(
        self,
        content: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> Reply:
        """Send a file (with a caption, if given) and return the bot's answer."""
        return await self._act(
            lambda: self.user.send_document(content, file_name, mime_type, caption=caption)
        )

    async def send_photo(self, content: bytes) -> Reply:
        """Send a picture as a photo and return the bot's answer."""
        return await self._act(lambda: self.user.send_photo(content))

    async def press(self, message: BotMessage, button_text: str) -> Reply:
        """Press a button of a message by its label."""
        return await self._act(lambda: self.user.press(message, button_text))

    async def press_data(self, message: BotMessage, data: str) -> Reply:
        """Send arbitrary (possibly forged) callback data as if from a button of the message."""
        return await self._act(lambda: self.user.press_data(message, data))

    @property
    def messages(self) -> list[BotMessage]:
        """Every message the bot sent this person."""
        return self.user.messages

    async def _act(self, action: Callable[[], Any]) -> Reply:
        emulator = self.sandbox.emulator
        before = len(self.user.messages)
        answered = set(emulator.callback_answers)
        update_id = await action()
        await self.sandbox.processed(update_id)
        alerts = [v for k, v in emulator.callback_answers.items() if k not in answered]
        return Reply(self.user.messages[before:], alerts[-1] if alerts else None)


class Handled:
    """Which updates an Application has finished handling, to wait for one of them."""

    def __init__(self) -> None:
        self._done: dict[int, asyncio.Event] = {}

    def track(self, app: Any) -> None:
        """Signal each update once the application's update processor is done with it."""
        # Not app.process_update (the handlers alone): the processor's handling around them
        # stores the chat's conversation step (bot.conversations), and a test that has had
        # its answer may read that step at once.
        processor = app.update_processor
        original = processor.process_update

        async def process_update(update: object, coroutine: Awaitable[Any]) -> None:
            try:
                await original(update, coroutine)
            finally:
                if isinstance(update, Update):
                    self._done.setdefault(update.update_id, asyncio.Event()).set()

        processor.process_update = process_update

    async def wait(self, update_id: int, timeout: float) -> None:  # noqa: ASYNC109
        """Until the update has been handled; nothing is kept per update afterwards."""
        event = self._done.setdefault(update_id, asyncio.Event())
        await asyncio.wait_for(event.wait(), timeout)
        del self._done[update_id]


class Sandbox:
    """Emulator + database + the real Application, started and stopped together."""

    def __init__(
        self,
        *,
        database_url: str,
        files_dir: Path,
        clock: Callable[[], datetime] | None = None,
        emulator: BotApiEmulator | None = None,
        dedupe: bool = False,
        background: bool = False,
        budget: Budget | None = None,
        zalo: ZaloEmulator | None = None,
    ) -> None:
        # Conversations answer a person a few messages at a time, in bursts Telegram tolerates
        # in a private chat; the strict 1/s per chat applies to broadcasts (tested separately).
        self.emulator = emulator or BotApiEmulator(
            chat_rate=5.0, chat_burst=200, global_rate=30.0, global_burst=500
        )
        # The bot's send budget: Telegram's 25/s in all, the emulator's tolerance per chat;
        # none when the emulator has no flood control (benchmarks of the bot's own cost).
        self.budget = budget or (
            Budget(chat_interval=1.0 / self.emulator.chat_rate, chat_burst=self.emulator.chat_burst)
            if self.emulator.flood_control
            else Budget.unlimited()
        )
        self.database_url = database_url
        self.files_dir = files_dir
        self.clock = clock
        self.dedupe = dedupe
        # True runs the scheduler's ticks and the outbox worker on their own, as `thiduabot
        # run` does; False (tests, demo) leaves them to tick() and deliver().
        self.background = background
        # The emulator's Zalo mode: given, the bot has its Zalo channel too (PRODUCT §12).
        self.zalo = zalo
        # Set before start: the Zalo bot takes its messages by webhook ((url, address, port),
        # with this secret), as `run --zalo-webhook` does, instead of polling.
        self.zalo_webhook: tuple[str, str, int] | None = None
        self.zalo_secret = ""
        self.db = Database(database_url)
        self.app: BotApplication | None = None
        self._handled = Handled()

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def settings(self) -> Settings:
        """The settings the bot runs with: everything pointed at the emulator."""
        zalo: dict[str, Any] = (
            {}
            if self.zalo is None
            else {"zalo_bot_token": self.zalo.token, "zalo_api_base_url": self.zalo.base_url}
        )
        return Settings(
            bot_token=self.emulator.token,  # type: ignore[arg-type]
            bot_api_base_url=self.emulator.base_url,
            bot_api_file_url=self.emulator.file_url,
            database_url=self.database_url,
            files_dir=self.files_dir,
            **zalo,
        )

    async def start(self) -> None:
        """Start the emulator, then the bot polling it."""
        await self.emulator.start()
        if self.zalo is not None:
            await self.zalo.start()
        await self.db.migrate()
        await self._start_bot()

    async def restart_bot(self) -> None:
        """Stop the bot and start a new one on the same database and emulator, as a
        deployment does: nothing is kept in memory across."""
        await self._stop_bot()
        await self._start_bot()

    async def _start_bot(self) -> None:
        app = build_application(
            self.settings,
            self.db,
            clock=self.clock,
            background=self.background,
            dedupe=self.dedupe,
            budget=self.budget,
        )
        self._handled.track(app)
        app.bot_data.zalo_webhook, app.bot_data.zalo_secret = self.zalo_webhook, self.zalo_secret
        await app.initialize()
        await on_startup(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=2)
        self.app = app

    async def stop(self) -> None:
        """Stop the bot, then the emulator; close the database."""
        await self._stop_bot()
        await self.emulator.stop()
        if self.zalo is not None:
            await self.zalo.stop()
        await self.db.dispose()

    async def _stop_bot(self) -> None:
        if self.app is not None:
            if self.app.updater is not None and self.app.updater.running:
                await self.app.updater.stop()
            if self.app.running:
                await self.app.stop()
            if self.background:
                await on_shutdown(self.app)  # the worker finishes its requests in flight
            elif self.app.bot_data.zalo is not None:
                await self.app.bot_data.zalo.stop()
            await self.app.shutdown()
            self.app = None

    async def tick(self) -> int:
        """One scheduler tick at the sandbox clock's instant: how many messages it enqueued."""
        assert self.app is not None
        scheduler = self.app.bot_data.scheduler
        assert scheduler is not None
        return await scheduler.tick()

    async def deliver(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Send everything due in the outbox, as the background worker would."""
        assert self.app is not None
        worker = self.app.bot_data.worker
        assert worker is not None
        zalo = self.app.bot_data.zalo
        if zalo is None:
            await worker.drain(timeout)
            return
        await asyncio.gather(worker.drain(timeout), zalo.worker.drain(timeout))

    async def zalo_say(
        self,
        user: ZaloUser,
        text: str | None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[str]:
        """A Zalo user sends the bot a text (None: a picture): the messages the bot answered
        it with."""
        assert self.app is not None and self.app.bot_data.zalo is not None
        zalo = self.app.bot_data.zalo
        before, answered = len(user.messages), zalo.answered
        await (user.send(text) if text is not None else user.send_image())
        await zalo.wait_answered(answered + 1, timeout)
        return user.messages[before:]

    def person(self, user_id: int, first_name: str, **kwargs: Any) -> Person:
        """A Telegram user of the emulator, ready to talk to the bot."""
        return Person(self, self.emulator.user(user_id, first_name, **kwargs))

    async def processed(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has finished handling this update."""
        await self._handled.wait(update_id, timeout)


def process_environment(
    emulator: BotApiEmulator, database_url: str, files_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment of a bot started as its own process (`python -m bot run` and the like)
    against this emulator: the parent's, without its own BOT_* and DATABASE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    env.update(
        BOT_TOKEN=emulator.token,
        BOT_API_BASE_URL=emulator.base_url,
        BOT_API_FILE_URL=emulator.file_url,
        DATABASE_URL=database_url,
        FILES_DIR=str(files_dir),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        **extra,
    )
    return env

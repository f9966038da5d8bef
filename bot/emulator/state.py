"""What the emulator remembers (chats, messages, files, updates, the transcript), and
waiting for it to change; every other part of the emulator works on this state."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.records import ApiRequest, BotMessage, StoredFile
from bot.emulator.scripts import Bucket, Fault
from bot.emulator.users import EmulatedUser
from messages.commands import BOT_NAME

# How many recent updates redeliver() can send again, and webhook deliveries kept.
REMEMBERED_UPDATES = 10_000
# What getFile gives: the public Bot API up to 20 MB, a `telegram-bot-api --local` up to 2000 MB.
PUBLIC_DOWNLOAD_BYTES = 20 * 1024 * 1024
LOCAL_DOWNLOAD_BYTES = 2000 * 1024 * 1024


class EmulatorState:
    """The state of a fake Telegram Bot API server, shared by its parts."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_id: int = 123456,
        bot_username: str = "thidua_demo_bot",
        bot_name: str = BOT_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
        max_download_bytes: int | None = None,
        local: bool = False,
        flood_control: bool = True,
        global_rate: float = 30.0,
        global_burst: int = 30,
        chat_rate: float = 1.0,
        chat_burst: int = 20,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        # local: a self-hosted server in --local mode (methods_files.py): getFile answers with
        # a path on this machine's disk, files are not served over HTTP.
        self.local = local
        if max_download_bytes is None:
            max_download_bytes = LOCAL_DOWNLOAD_BYTES if local else PUBLIC_DOWNLOAD_BYTES
        self.max_download_bytes = max_download_bytes
        self.flood_control = flood_control
        self.global_rate = global_rate
        self.global_burst = global_burst
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.webhook_retry_delay = 0.2
        # (update_id, url) of each update a webhook endpoint accepted, oldest first.
        self.webhook_deliveries: deque[tuple[int, str]] = deque(maxlen=REMEMBERED_UPDATES)

        self.requests: list[ApiRequest] = []
        self.callback_answers: dict[str, str | None] = {}
        self.callback_alerts: dict[str, bool] = {}
        self.flood_count = 0
        self.downloads: list[str] = []
        # While set to an event not yet set, file downloads are answered only once it is.
        self.downloads_held: asyncio.Event | None = None
        self.download_seconds = 0.0  # each file download answered this much later
        self.commands: dict[str, list[dict[str, Any]]] = {}

        self._users: dict[int, EmulatedUser] = {}
        self._messages: list[BotMessage] = []
        self._by_key: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: set[tuple[int, int]] = set()
        self._next_mid: dict[int, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._open_queries: set[str] = set()
        self._transcript: list[str] = []

        self._update_seq = itertools.count(1)
        self._recent_updates: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._fetched: set[int] = set()
        self._faults: list[Fault] = []
        self._global_bucket: Bucket | None = None  # made at the first send (flood.py)
        self._chat_buckets: dict[int, Bucket] = {}

        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_targets: list[str] = []
        self._webhook_rr = 0
        self._webhook_last_error: tuple[int, str] | None = None

        # One "something changed" event, replaced on every change: waiters grab the current
        # event and re-check their predicate after it fires, so no wake-up can be lost.
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ test-side API

    def messages(self, chat_id: int | None = None) -> list[BotMessage]:
        """Messages the bot sent (deleted ones included, flagged), optionally to one chat."""
        if chat_id is None:
            return list(self._messages)
        return [m for m in self._messages if m.chat_id == chat_id]

    def transcript(self) -> list[str]:
        """The chat history as human-readable lines, in order."""
        return list(self._transcript)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until predicate() is true, re-checked after every emulator state change."""
        if not await self._wait(predicate, timeout):
            raise TimeoutError(f"condition not met within {timeout} s")

    def forget_history(self) -> None:
        """Drop what the emulator remembers of past traffic (messages, requests, transcript,
        uploaded files, answered queries, updates it could deliver again), so that a long run
        measures the bot, not this log. Messages sent before can no longer be edited or
        pressed afterwards, nor updates redelivered."""
        self.requests.clear()
        self._recent_updates.clear()
        self.webhook_deliveries.clear()
        self.callback_answers.clear()
        self.callback_alerts.clear()
        self.downloads.clear()
        self._messages.clear()
        self._by_key.clear()
        self._user_messages.clear()
        self._files.clear()
        self._files_by_path.clear()
        self._open_queries.clear()
        self._transcript.clear()
        self._fetched.clear()

    # ------------------------------------------------------------------ internals

    def _signal(self) -> None:
        """Wake every waiter; they re-check their condition."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, predicate: Callable[[], bool], timeout: float) -> bool:  # noqa: ASYNC109
        """Wait up to timeout for predicate(); returns its final value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return predicate()
            event = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True

    def note(self, line: str) -> None:
        """A narrator's line in the transcript (e.g. the demo saying the bot was restarted)."""
        self._log(line)
        self._signal()

    def _log(self, line: str) -> None:
        """Append to the transcript."""
        self._transcript.append(line)

    def _new_message_id(self, chat_id: int) -> int:
        """Message ids are per chat and shared by both sides, as in private chats."""
        mid = self._next_mid.get(chat_id, 0) + 1
        self._next_mid[chat_id] = mid
        return mid

    def _bot_user(self) -> dict[str, Any]:
        """The bot as a User object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _store_file(
        self, content: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        """Keep file bytes under a fresh file_id and download path."""
        seq = next(self._file_seq)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        elif folder == "photos":
            ext = ".jpg"
        stored = StoredFile(
            file_id=f"BQACAgIAAxk{seq:08d}EMU",
            file_unique_id=f"AgAD{seq:06d}",
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{seq}{ext}",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _document_api(stored: StoredFile) -> dict[str, Any]:
        """A Document object."""
        data: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.file_name:
            data["file_name"] = stored.file_name
        if stored.mime_type:
            data["mime_type"] = stored.mime_type
        return data

    @staticmethod
    def _photo_size(stored: StoredFile, side: int) -> dict[str, Any]:
        """A PhotoSize object (dimensions are nominal)."""
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "width": side,
            "height": side,
        }

    def _message_api(self, msg: BotMessage) -> dict[str, Any]:
        """Serialize a bot message as Telegram would."""
        user = self._users.get(msg.chat_id)
        chat = user.chat_api() if user else {"id": msg.chat_id, "type": "private"}
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self._bot_user(),
            "chat": chat,
            "date": msg.date,
        }
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        media = msg.document or msg.photo
        if msg.document is not None:
            data["document"] = self._document_api(self._files[msg.document["file_id"]])
        elif msg.photo is not None:
            stored = self._files[msg.photo["file_id"]]
            data["photo"] = [self._photo_size(stored, 90), self._photo_size(stored, 800)]
        if media is not None:
            if msg.text:
                data["caption"] = msg.text
                if msg.entities:
                    data["caption_entities"] = msg.entities
        else:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

"""The emulator's Zalo mode: the Zalo Bot Platform's HTTP API on loopback (issue 19).

The shape is the platform's published one (`/bot<TOKEN>/<method>`, JSON bodies; getMe,
getUpdates with a `timeout` in seconds answering one update or 408 "Request timeout",
setWebhook with a `secret_token` of 8 to 256 characters sent back in the
`X-Bot-Api-Secret-Token` header, deleteWebhook, getWebhookInfo, sendMessage with a string
`chat_id` and a plain `text` of 1 to 2,000 characters). A user who left the bot answers 403,
the way `scheduler/delivery/zalo.py` takes it (the platform's own code for it is not
published). Everything a test needs to look at is kept: each user's messages and each
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.emulator.wire import serve
from scheduler.delivery.zalo import MAX_TEXT, SECRET_HEADER, text_length

TOKEN = "7100000001:zalo-test-token"


@dataclass(slots=True)
class ZaloRequest:
    """One call as received."""

    time: float
    method: str
    params: dict[str, Any]
    status: int = 0


@dataclass(slots=True)
class ZaloUser:
    """A Zalo account talking to the bot."""

    emulator: ZaloEmulator
    id: str
    name: str
    left: bool = False  # the person left the bot: sending to them fails
    messages: list[str] = field(default_factory=list)

    async def send(self, text: str) -> None:
        """The person sends the bot a text."""
        await self.emulator.deliver(self, text)

    async def send_image(self, url: str = "https://example.invalid/photo.jpg") -> None:
        """The person sends the bot a picture (no text)."""
        await self.emulator.deliver(self, None, photo=url)


class ZaloEmulator:
    """A loopback Zalo Bot Platform for tests and the demo."""

    def __init__(self, token: str = TOKEN, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.host, self.port = host, port
        self.requests: list[ZaloRequest] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_statuses: list[int] = []
        self._users: dict[str, ZaloUser] = {}
        # Updates not taken yet; a getUpdates whose client has gone takes none (the bot that
        # asked was stopped: its successor gets them).
        self._pending: deque[dict[str, Any]] = deque()
        self._arrived = asyncio.Event()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        # Seconds the answers of the next sendMessage calls are held back, the message being
        # delivered at once (a crash between the platform's taking and the bot's recording).
        self._held: list[float] = []
        # Where to write what is said, if anywhere (the demo: the Telegram transcript).
        self.transcript: Callable[[str], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> ZaloEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Listen on loopback (an ephemeral port unless one was given)."""
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        self.port = await serve(self._runner, self.host, self.port)

    async def stop(self) -> None:
        """Stop listening; close the webhook client."""
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What ZALO_API_BASE_URL is set to (the token follows)."""
        return f"http://{self.host}:{self.port}/bot"

    # ------------------------------------------------------------------ people

    def user(self, user_id: str | None = None, name: str = "") -> ZaloUser:
        """The account of this id (a new one, with a fresh id, when None)."""
        uid = user_id or secrets.token_hex(10)
        if uid not in self._users:
            self._users[uid] = ZaloUser(self, uid, name or uid)
        return self._users[uid]

    async def deliver(self, user: ZaloUser, text: str | None, *, photo: str = "") -> None:
        """A message from a person (a text, or a picture): to the webhook if one is set,
        else to getUpdates."""
        self._say(f"[Zalo · {user.name}] ", text if text is not None else f"🖼 {photo}")
        message: dict[str, Any] = {
            "chat": {"id": user.id, "chat_type": "PRIVATE"},
            "from": {"id": user.id, "display_name": user.name},
            "message_id": secrets.token_hex(10),
            "date": int(time.time() * 1000),
        }
        if text is not None:
            message["text"] = text
        else:
            message["photo"] = photo
        event = "message.text.received" if text is not None else "message.image.received"
        update = {"event_name": event, "message": message}
        if not self.webhook_url:
            self._pending.append(update)
            self._arrived.set()
            return
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {SECRET_HEADER: self.webhook_secret}
        async with self._session.post(self.webhook_url, json=update, headers=headers) as answer:
            self.webhook_statuses.append(answer.status)

    def hold_next_answer(self, seconds: float) -> None:
        """The next sendMessage is delivered, but answered `seconds` later."""
        self._held.append(seconds)

    async def wait_until(self, condition: Any, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Until `condition()` holds, looked at after every request."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_messages(self, user: ZaloUser, count: int, timeout: float = 10) -> list[str]:  # noqa: ASYNC109
        """Until the person has at least `count` messages from the bot."""
        async with asyncio.timeout(timeout):
            while len(user.messages) < count:
                self._changed.clear()
                await self._changed.wait()
        return user.messages

    # ------------------------------------------------------------------ the API

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await request.json() if request.can_read_body else {}
        except ValueError:
            params = {}
        method = request.match_info["method"]
        record = ZaloRequest(time.monotonic(), method, params if isinstance(params, dict) else {})
        self.requests.append(record)
        if request.match_info["token"] != self.token:
            status, body = 401, _error(401, "Unauthorized")
        else:
            status, body = await self._call(method, record.params, request)
        record.status = status
        self._changed.set()
        return web.json_response(body, status=status)

    async def _call(
        self, method: str, params: dict[str, Any], request: web.Request
    ) -> tuple[int, dict[str, Any]]:
        if method == "getMe":
            return 200, _ok({"id": self.token.split(":")[0], "account_name": "bot.thidua"})
        if method == "getUpdates":
            return await self._get_updates(params, request)
        if method == "setWebhook":
            secret = str(params.get("secret_token") or "")
            if not str(params.get("url") or "").startswith(("http://", "https://")):
                return 400, _error(400, "Invalid url")
            if not 8 <= len(secret) <= 256:
                return 400, _error(400, "secret_token must be 8 to 256 characters")
            self.webhook_url, self.webhook_secret = str(params["url"]), secret
            return 200, _ok({"url": self.webhook_url, "updated_at": int(time.time() * 1000)})
        if method == "deleteWebhook":
            self.webhook_url = self.webhook_secret = ""
            return 200, _ok({"url": "", "updated_at": int(time.time() * 1000)})
        if method == "getWebhookInfo":
            return 200, _ok({"url": self.webhook_url})
        if method == "sendMessage":
            status, body = self._send_message(params)
            if status == 200 and self._held:
                self._changed.set()  # delivered now; the answer comes later
                await asyncio.sleep(self._held.pop(0))
            return status, body
        return 404, _error(404, "Not Found")

    async def _get_updates(
        self, params: dict[str, Any], request: web.Request
    ) -> tuple[int, dict[str, Any]]:
        try:
            wait = min(float(params.get("timeout") or 30), 60.0)
        except (TypeError, ValueError):
            return 400, _error(400, "Invalid timeout")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                while True:
                    gone = request.transport is None or request.transport.is_closing()
                    if gone:
                        return 408, _error(408, "Request timeout")
                    if self._pending:
                        return 200, _ok(self._pending.popleft())
                    self._arrived.clear()
                    await self._arrived.wait()
        return 408, _error(408, "Request timeout")

    def _send_message(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat, text = params.get("chat_id"), params.get("text")
        if not isinstance(chat, str) or chat not in self._users:
            return 400, _error(400, "Invalid chat_id")
        if not isinstance(text, str) or not 1 <= text_length(text) <= MAX_TEXT:
            return 400, _error(400, "Text length must be from 1 to 2000 characters")
        user = self._users[chat]
        if user.left:
            return 403, _error(403, "User has left the bot")
        user.messages.append(text)
        self._say(f"[Zalo bot → {user.name}] ", text)
        return 200, _ok({"message_id": f"m{next(self._ids)}", "date": int(time.time() * 1000)})

    def _say(self, prefix: str, text: str) -> None:
        if self.transcript is None:
            return
        first, *rest = text.split("\n")
        self.transcript(prefix + first)
        for line in rest:
            self.transcript(" " * len(prefix) + line)


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _error(code: int, description: str) -> dict[str, Any]:
    return {"ok": False, "error_code": code, "description": description}

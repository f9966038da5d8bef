"""The Zalo Bot Platform, as the outbox worker needs it: a thin client over httpx (issue 19).

The platform's HTTP API is shaped like Telegram's (`<base>/bot<TOKEN>/<method>`, JSON in,
`{"ok": …, "result": …}` or `{"ok": false, "error_code": …, "description": …}` out), with
plain text only, up to 2,000 characters a message, string chat and message ids, and one
update per getUpdates answer. What its documentation leaves open (the exact error of a user
who left, whether the limit counts characters or UTF-16 units) is decided here and nowhere
else: an error is classified by its code the way the Bot API's are, and a text is measured
in UTF-16 units, which is never less than its characters.

Why not the `python-zalo-bot` package: it is a fork of python-telegram-bot (the same names,
a second copy of the framework beside the one we run), young (0.1.x), and all the worker
needs is four calls; a page of httpx is easier to keep right than a framework to keep up with.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import httpx

BASE_URL = "https://bot-api.zaloplatforms.com/bot"
MAX_TEXT = 2_000
SECRET_HEADER = "X-Bot-Api-Secret-Token"


class Failure(enum.Enum):
    """What a failed request means for the message (as the worker's rules classify)."""

    BLOCKED = "blocked"  # the person left or blocked the bot: stop sending to them
    RATE_LIMITED = "rate_limited"  # too fast: wait, then send again
    REFUSED = "refused"  # the platform will never take this message
    UNREACHABLE = "unreachable"  # no connection or a 5xx: try again later
    UNCERTAIN = "uncertain"  # written, no answer: it may have been delivered


class ZaloError(Exception):
    """A request the platform did not carry out, classified."""

    def __init__(self, failure: Failure, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.failure = failure
        self.code = code
        self.description = description


@dataclass(frozen=True, slots=True)
class Sent:
    """The platform's answer to a message that was sent."""

    message_id: str
    date: int | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message a person sent the bot."""

    chat_id: str
    user_id: str
    name: str
    text: str | None
    event: str
    message_id: str = ""  # the platform's id of the message (a second delivery repeats it)


def text_length(text: str) -> int:
    """A text's length as the limit is taken to count it (UTF-16 units: see the module)."""
    return len(text.encode("utf-16-le")) // 2


def _failure(code: int | None) -> Failure:
    if code in (401, 403, 404):
        # 401/404 are a bad token or method (refused below); 403 is the person's choice.
        return Failure.BLOCKED if code == 403 else Failure.REFUSED
    if code == 429:
        return Failure.RATE_LIMITED
    if code is not None and code >= 500:
        return Failure.UNREACHABLE
    return Failure.REFUSED


def parse_update(body: Any) -> Incoming | None:
    """An update (getUpdates' result or a webhook's body) as a message, if it is one."""
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if not isinstance(message, dict):
        return None
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    chat_id, user_id = chat.get("id"), sender.get("id") or chat.get("id")
    if not isinstance(chat_id, str) or not isinstance(user_id, str):
        return None
    text = message.get("text")
    return Incoming(
        chat_id=chat_id,
        user_id=user_id,
        name=str(sender.get("display_name") or sender.get("first_name") or ""),
        text=text if isinstance(text, str) else None,
        event=str(body.get("event_name") or "message.text.received"),
        message_id=str(message.get("message_id") or ""),
    )


class ZaloClient:
    """getMe, getUpdates, setWebhook/deleteWebhook and sendMessage of one bot."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = BASE_URL,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url = f"{base_url.rstrip('/')}{token}/"
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._own_client = client is None

    async def aclose(self) -> None:
        """Close the HTTP client if this client made it."""
        if self._own_client:
            await self._client.aclose()

    async def call(self, method: str, params: dict[str, Any] | None = None, **http: Any) -> Any:
        """One request; its `result`, or ZaloError classified."""
        try:
            response = await self._client.post(self._url + method, json=params or {}, **http)
        except httpx.TimeoutException as exc:
            written = not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            failure = Failure.UNCERTAIN if written else Failure.UNREACHABLE
            raise ZaloError(failure, type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise ZaloError(Failure.UNREACHABLE, type(exc).__name__) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            code = response.status_code
            raise ZaloError(_failure(code), f"HTTP {code}", code)
        if body.get("ok"):
            return body.get("result")
        raw = body.get("error_code", response.status_code)
        code = raw if isinstance(raw, int) else response.status_code
        raise ZaloError(_failure(code), str(body.get("description") or ""), code)

    async def get_me(self) -> dict[str, Any]:
        """Who the bot is (checks the token)."""
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_updates(self, wait: int = 30) -> Incoming | None:
        """The next message, waiting up to `wait` seconds (None: nothing came)."""
        try:
            result = await self.call(
                "getUpdates", {"timeout": str(wait)}, timeout=httpx.Timeout(wait + 10)
            )
        except ZaloError as error:
            if error.code == 408:  # the long poll ended with nothing
                return None
            raise
        return parse_update(result)

    async def set_webhook(self, url: str, secret: str) -> None:
        """Updates are POSTed to `url` with the secret in SECRET_HEADER."""
        await self.call("setWebhook", {"url": url, "secret_token": secret})

    async def delete_webhook(self) -> None:
        """Back to getUpdates."""
        await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> Sent:
        """A plain text of at most MAX_TEXT; a longer one is refused before it leaves."""
        if not text or text_length(text) > MAX_TEXT:
            raise ZaloError(Failure.REFUSED, f"text of {text_length(text)} units", 400)
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        if not isinstance(result, dict) or not result.get("message_id"):
            raise ZaloError(Failure.UNCERTAIN, "answer without a message id")
        date = result.get("date")
        return Sent(str(result["message_id"]), date if isinstance(date, int) else None)

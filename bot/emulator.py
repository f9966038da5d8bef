"""In-process fake of the Telegram Bot API server, for tests and the offline demo.

The real python-telegram-bot ``Application`` talks to it over HTTP on loopback::

    async with BotApiEmulator() as emu:
        app = (ApplicationBuilder().token(emu.token)
               .base_url(emu.base_url).base_file_url(emu.file_url).build())
        lan = emu.user(1001, "Lan")
        await lan.send("/start")

Behaviour mirrors Telegram where it matters for a bot's correctness: error codes and
descriptions, strict HTML validation, the 4096-character limit, 64-byte callback data,
"message is not modified", blocked users, flood control (429 + retry_after), getUpdates
long polling and webhook delivery with a secret token.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import re
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from aiohttp import web

from messages.commands import BOT_NAME

__all__ = [
    "ApiRequest",
    "BotApiEmulator",
    "BotMessage",
    "EmulatedUser",
    "HtmlParseError",
    "parse_html",
]

MAX_TEXT_LENGTH = 4096
# How many recent updates redeliver() can send again, and webhook deliveries kept.
REMEMBERED_UPDATES = 10_000
MAX_CAPTION_LENGTH = 1024
# Methods that Telegram rate-limits per chat and globally ("send or edit" traffic).
FLOOD_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# --------------------------------------------------------------------------- HTML parsing


class HtmlParseError(ValueError):
    """Raised when text with parse_mode=HTML would be rejected by Telegram."""


_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    """Telegram reports positions as UTF-8 byte offsets, not character indexes."""
    return len(text[:index].encode("utf-8"))


def _utf16_len(text: str) -> int:
    """Entity offsets in the Bot API are measured in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference starting at text[i] == '&'; None if not a valid one.

    Stricter than Telegram (which keeps an unknown '&' literally): the terminating ';' is
    required, so unescaped user data such as "Tom & Jerry" or "AT&T" is caught in tests.
    """
    n = len(text)
    j = i + 1
    if j < n and text[j] == "#":
        j += 1
        hexa = j < n and text[j] in "xX"
        if hexa:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        while j < n and text[j] in digits:
            j += 1
        if j == start or j >= n or text[j] != ";":
            return None
        code = int(text[start:j], 16 if hexa else 10)
        if code == 0 or code >= 0x110000 or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code), j + 1
    start = j
    while j < n and text[j].isascii() and text[j].isalpha():
        j += 1
    name = text[start:j]
    if name not in _NAMED_ENTITIES or j >= n or text[j] != ";":
        return None
    return _NAMED_ENTITIES[name], j + 1


@dataclass
class _OpenTag:
    """A start tag waiting for its end tag."""

    name: str
    byte_offset: int
    start: int  # UTF-16 offset in the plain text
    argument: str | None


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-flavoured HTML into (plain text, Bot API entities) or raise HtmlParseError.

    Follows tdlib's parse_html (error messages included) with two deliberate strictness
    additions: a stray '&' is an error, and <a> requires href.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0

    def fail(message: str) -> HtmlParseError:
        return HtmlParseError(message)

    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                raise fail(
                    f'Character "&" at byte offset {_byte_offset(text, i)} does not start '
                    'a supported HTML entity; escape it as "&amp;"'
                )
            ch, i = decoded
            out.append(ch)
            pos16 += _utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            pos16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue
        begin = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {begin}")
            j = i + 2
            while j < n and text[j] != ">" and not text[j].isspace():
                j += 1
            end_name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {begin}")
            tag = stack.pop()
            if end_name and end_name != tag.name:
                raise fail(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                    f'found "</{end_name}>"'
                )
            i = j + 1
            _close_tag(tag, stack, entities, pos16)
            continue
        # A start tag: the name runs to the first space or '>' (as in tdlib).
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise fail(f"Unclosed start tag at byte offset {begin}")
        name = text[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise fail(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise fail(f"Unclosed start tag at byte offset {begin}")
            if text[j] == ">":
                break
            k = j
            while j < n and not text[j].isspace() and text[j] not in "=>":
                j += 1
            attr = text[k:j].lower()
            if not attr:
                raise fail(f'Empty attribute name in the tag "{name}" at byte offset {begin}')
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise fail(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {begin}"
                )
            j += 1
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise fail(f"Unclosed start tag at byte offset {begin}")
            if text[j] in "'\"":
                quote = text[j]
                j += 1
                value: list[str] = []
                while j < n and text[j] != quote:
                    # URLs routinely contain raw '&', and Telegram accepts them in attributes.
                    decoded = _decode_entity(text, j) if text[j] == "&" else None
                    if decoded is not None:
                        value.append(decoded[0])
                        j = decoded[1]
                    else:
                        value.append(text[j])
                        j += 1
                if j >= n:
                    raise fail(f"Unclosed start tag at byte offset {begin}")
                j += 1
                attrs[attr] = "".join(value)
            else:
                k = j
                while j < n and (text[j].isalnum() or text[j] in ".-"):
                    j += 1
                if j < n and not text[j].isspace() and text[j] != ">":
                    offset = _byte_offset(text, j)
                    raise fail(f"Unexpected end of name token at byte offset {offset}")
                attrs[attr] = text[k:j].lower()
        i = j + 1
        argument: str | None = None
        if name == "a":
            argument = attrs.get("href")
            if not argument:
                raise fail(f'Tag "a" must have attribute "href" at byte offset {begin}')
        elif name == "span":
            if attrs.get("class") != "tg-spoiler":
                raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        elif name == "code":
            cls = attrs.get("class", "")
            argument = cls[len("language-") :] if cls.startswith("language-") else None
        elif name == "blockquote":
            argument = "expandable" if "expandable" in attrs else None
        elif name == "tg-emoji":
            argument = attrs.get("emoji-id")
        stack.append(_OpenTag(name, begin, pos16, argument))
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(
    tag: _OpenTag, stack: list[_OpenTag], entities: list[dict[str, Any]], end: int
) -> None:
    """Turn a closed tag into a Bot API MessageEntity (empty ones are dropped, like Telegram)."""
    if tag.name == "code" and stack and stack[-1].name == "pre" and tag.argument:
        # <pre><code class="language-x"> is how a pre block's language is declared.
        stack[-1].argument = tag.argument
        return
    length = end - tag.start
    if length <= 0:
        return
    kind = _TAG_ENTITY[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        entity["url"] = tag.argument
    elif kind == "pre" and tag.argument:
        entity["language"] = tag.argument
    elif kind == "blockquote" and tag.argument:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.argument or ""
    entities.append(entity)


# --------------------------------------------------------------------------- data classes


@dataclass
class ApiRequest:
    """One Bot API call as received by the emulator (file bytes are never kept here)."""

    time: float  # time.monotonic() when the request arrived
    method: str
    params: dict[str, Any]
    status: int = 0  # HTTP status answered; 0 = not answered (yet), or connection dropped
    chat_id: int | None = None
    error: bool = False
    description: str | None = None
    retry_after: int | None = None

    @property
    def ok(self) -> bool:
        """True when answered with HTTP 200."""
        return self.status == 200


@dataclass
class BotMessage:
    """A message the bot sent, kept up to date through edits and deletions."""

    message_id: int
    chat_id: int
    text: str
    html: str | None = None
    parse_mode: str | None = None
    buttons: list[list[tuple[str, str | None]]] = field(default_factory=list)
    document: dict[str, Any] | None = None
    edits: int = 0
    photo: dict[str, Any] | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    date: int = 0
    edit_date: int | None = None
    deleted: bool = False

    def button_texts(self) -> list[str]:
        """All button labels, row by row."""
        return [text for row in self.buttons for text, _ in row]

    def button_data(self, button_text: str) -> str | None:
        """callback_data (or url) of the button labelled button_text; LookupError if absent."""
        for row in self.buttons:
            for text, data in row:
                if text == button_text:
                    return data
        raise LookupError(
            f"no button {button_text!r} in message {self.message_id}; "
            f"available: {self.button_texts()!r}"
        )


@dataclass
class _StoredFile:
    """A file known to the emulator, downloadable by the bot."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str


@dataclass
class _Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class _Fault:
    """A scripted failure for upcoming calls of a method."""

    method: str
    status: int
    description: str
    retry_after: int | None
    times: int
    delay: float


class _ApiError(Exception):
    """An error answer: {"ok": false, "error_code": status, "description": ...}."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _bad(description: str) -> _ApiError:
    """A 400 with Telegram's "Bad Request: " prefix."""
    return _ApiError(400, f"Bad Request: {description}")


class _Bucket:
    """Token bucket: `rate` tokens per second, at most `capacity` stored."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate if self.rate > 0 else 3600.0


class _Params:
    """Request parameters; form and multipart values arrive as strings, JSON ones typed."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, _Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def get(self, key: str) -> Any:
        """The raw value or None."""
        return self.values.get(key)

    def get_str(self, key: str) -> str | None:
        """The value as a string, or None when absent."""
        value = self.values.get(key)
        if value is None:
            return None
        return value if isinstance(value, str) else str(value)

    def get_int(self, key: str, missing: str | None = None) -> int | None:
        """The value as an int; 400 `missing` when absent (if given), 400 when not a number."""
        value = self.values.get(key)
        if value is None or value == "":
            if missing:
                raise _bad(missing)
            return None
        if isinstance(value, bool):
            raise _bad(f"invalid {key} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {key} specified") from None

    def get_bool(self, key: str) -> bool:
        """The value as a bool (JSON true, "true", "1")."""
        value = self.values.get(key)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, key: str, error: str) -> Any:
        """A JSON-typed value that form encoding delivers as a JSON string."""
        value = self.values.get(key)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(error) from None
        return value


# --------------------------------------------------------------------------- users


class EmulatedUser:
    """A Telegram user in a private chat with the bot, driven from tests."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str,
    ) -> None:
        self._emu = emulator
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.blocked = False

    @property
    def chat_id(self) -> int:
        """Private chat id == user id, as in Telegram."""
        return self.id

    def __repr__(self) -> str:
        return f"EmulatedUser(id={self.id}, first_name={self.first_name!r})"

    def to_api(self) -> dict[str, Any]:
        """The Bot API User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        data["language_code"] = self.language_code
        return data

    def chat_api(self) -> dict[str, Any]:
        """The Bot API Chat object of the private chat."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    async def send(self, text: str) -> int:
        """Send a text message to the bot; returns the update_id."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            # CommandHandler only fires on a bot_command entity at offset 0.
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        self._emu._log(f"[{self.first_name}] {text}")
        return self._emu._push_message(self, content)

    async def send_document(
        self,
        content: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> int:
        """Send a file as a document; returns the update_id."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._emu._store_file(content, file_name, mime, "documents")
        payload: dict[str, Any] = {"document": self._emu._document_api(stored)}
        if caption:
            payload["caption"] = caption
        self._emu._log(f"[{self.first_name}] 📎 {file_name}" + (f" — {caption}" if caption else ""))
        return self._emu._push_message(self, payload)

    async def send_photo(self, content: bytes, caption: str | None = None) -> int:
        """Send a photo (two PhotoSize entries, the largest last); returns the update_id."""
        small = self._emu._store_file(content, None, "image/jpeg", "photos")
        large = self._emu._store_file(content, None, "image/jpeg", "photos")
        payload: dict[str, Any] = {
            "photo": [self._emu._photo_size(small, 90), self._emu._photo_size(large, 800)]
        }
        if caption:
            payload["caption"] = caption
        self._emu._log(f"[{self.first_name}] 🖼 photo" + (f" — {caption}" if caption else ""))
        return self._emu._push_message(self, payload)

    async def press(self, message: BotMessage, button_text: str) -> int:
        """Press a button by its label; returns the update_id (of a callback_query if inline)."""
        if message.deleted:
            raise LookupError(f"message {message.message_id} was deleted")
        message.button_data(button_text)  # LookupError listing the labels if absent
        markup = message.reply_markup or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if button.get("text") == button_text:
                    if "callback_data" not in button:
                        raise LookupError(f"button {button_text!r} is not a callback button")
                    self._emu._log(f"[{self.first_name}] ⏺ presses “{button_text}”")
                    return self._emu._push_callback(self, message, button["callback_data"])
        # A reply-keyboard button simply sends its label as a text message.
        return await self.send(button_text)

    async def press_data(self, message: BotMessage, callback_data: str) -> int:
        """Send a callback_query with arbitrary (possibly forged) data for this message."""
        self._emu._log(f"[{self.first_name}] ⏺ sends callback data “{callback_data}”")
        return self._emu._push_callback(self, message, callback_data)

    def block(self) -> None:
        """Block the bot: every send* to this chat now fails with 403."""
        self.blocked = True

    def unblock(self) -> None:
        """Unblock the bot."""
        self.blocked = False

    @property
    def messages(self) -> list[BotMessage]:
        """Messages the bot sent to this chat, oldest first."""
        return self._emu.messages(self.id)

    @property
    def last(self) -> BotMessage:
        """The newest message the bot sent to this chat (LookupError if none)."""
        msgs = self.messages
        if not msgs:
            raise LookupError(f"the bot has sent nothing to {self.first_name} ({self.id})")
        return msgs[-1]

    async def wait_messages(self, count: int = 1, timeout: float = 10) -> list[BotMessage]:  # noqa: ASYNC109
        """Wait until the bot has sent at least `count` messages to this chat in total."""
        await self._emu.wait_until(lambda: len(self.messages) >= count, timeout)
        return self.messages


# --------------------------------------------------------------------------- emulator


class BotApiEmulator:
    """A fake Telegram Bot API server (aiohttp on loopback) plus user-side controls."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_id: int = 123456,
        bot_username: str = "thidua_demo_bot",
        bot_name: str = BOT_NAME,
        host: str = "127.0.0.1",
        port: int = 0,
        max_download_bytes: int = 20 * 1024 * 1024,
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
        self.commands: dict[str, list[dict[str, Any]]] = {}

        self._users: dict[int, EmulatedUser] = {}
        self._messages: list[BotMessage] = []
        self._by_key: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: set[tuple[int, int]] = set()
        self._next_mid: dict[int, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._open_queries: set[str] = set()
        self._transcript: list[str] = []

        self._update_seq = itertools.count(1)
        self._recent_updates: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._fetched: set[int] = set()
        self._faults: list[_Fault] = []
        self._global_bucket = _Bucket(global_rate, global_burst)
        self._chat_buckets: dict[int, _Bucket] = {}

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

        self._methods: dict[str, tuple[str, Callable[[_Params], Any]]] = {}
        for name, handler in (
            ("getMe", self._api_get_me),
            ("logOut", self._api_true),
            ("close", self._api_true),
            ("getUpdates", self._api_get_updates),
            ("setWebhook", self._api_set_webhook),
            ("deleteWebhook", self._api_delete_webhook),
            ("getWebhookInfo", self._api_get_webhook_info),
            ("sendMessage", self._api_send_message),
            ("editMessageText", self._api_edit_message_text),
            ("editMessageReplyMarkup", self._api_edit_message_reply_markup),
            ("editMessageCaption", self._api_edit_message_caption),
            ("deleteMessage", self._api_delete_message),
            ("answerCallbackQuery", self._api_answer_callback_query),
            ("sendDocument", self._api_send_document),
            ("sendPhoto", self._api_send_photo),
            ("sendChatAction", self._api_send_chat_action),
            ("getFile", self._api_get_file),
            ("getChat", self._api_get_chat),
            ("setMyCommands", self._api_set_my_commands),
            ("getMyCommands", self._api_get_my_commands),
            ("deleteMyCommands", self._api_delete_my_commands),
            ("setChatMenuButton", self._api_true),
            ("getChatMenuButton", self._api_get_chat_menu_button),
            ("setMyDescription", self._api_true),
            ("setMyShortDescription", self._api_true),
            ("setMyName", self._api_true),
            ("setMyDefaultAdministratorRights", self._api_true),
        ):
            self._methods[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind the HTTP server (port=0 picks a free port) and start webhook delivery."""
        self._closing = False
        # Uploads up to Telegram's 50 MB bot limit must fit in one request body.
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._session = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def stop(self) -> None:
        """Stop serving; long polls in progress return empty."""
        self._closing = True
        self._signal()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"http://{self.host}:{self.port}/file/bot"

    # ------------------------------------------------------------------ test-side API

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = "vi",
    ) -> EmulatedUser:
        """The user with this id (created on first call; the same object afterwards)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = EmulatedUser(self, user_id, first_name, last_name, username, language_code)
        self._users[user_id] = created
        return created

    def messages(self, chat_id: int | None = None) -> list[BotMessage]:
        """Messages the bot sent (deleted ones included, flagged), optionally to one chat."""
        if chat_id is None:
            return list(self._messages)
        return [m for m in self._messages if m.chat_id == chat_id]

    def transcript(self) -> list[str]:
        """The chat history as human-readable lines, in order."""
        return list(self._transcript)

    def updates_pending(self) -> int:
        """Updates not yet delivered/acknowledged."""
        return len(self._pending)

    async def wait_fetched(self, update_id: int, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until the bot received this update (getUpdates returned it / webhook took it)."""
        await self.wait_until(lambda: update_id in self._fetched, timeout)

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

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str = "",
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Script faults for the next `times` calls of `method` ("*" = any method).

        status 0 drops the connection without an answer; status 200 with a delay processes
        the call normally but answers only after `delay` seconds (a client read timeout then
        leaves an effect the client does not know about, exactly as with real Telegram).
        """
        self._faults.append(_Fault(method, status, description, retry_after, times, delay))

    def redeliver(self, update_id: int) -> None:
        """Queue an update again, same update_id and content, as Telegram does when a webhook
        answer did not reach it in time; with several targets it may land on another one."""
        self._pending.append(dict(self._recent_updates[update_id]))
        self._signal()

    def set_webhook_targets(self, urls: list[str], secret_token: str | None = None) -> None:
        """Deliver updates round-robin to these URLs (overrides setWebhook's URL; [] = off).

        The secret defaults to the one from the last setWebhook call.
        """
        self._webhook_targets = list(urls)
        if secret_token is not None:
            self._webhook_secret = secret_token
        self._signal()

    # ------------------------------------------------------------------ internals: state

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

    def _push_update(self, payload: dict[str, Any]) -> int:
        """Queue an update for getUpdates / webhook delivery."""
        update_id = next(self._update_seq)
        update = {"update_id": update_id, **payload}
        self._pending.append(update)
        self._recent_updates[update_id] = update
        if len(self._recent_updates) > REMEMBERED_UPDATES:
            del self._recent_updates[next(iter(self._recent_updates))]
        self._signal()
        return update_id

    def _push_message(self, user: EmulatedUser, content: dict[str, Any]) -> int:
        """Queue a message update from this user."""
        mid = self._new_message_id(user.id)
        self._user_messages.add((user.id, mid))
        message = {
            "message_id": mid,
            "from": user.to_api(),
            "chat": user.chat_api(),
            "date": int(time.time()),
            **content,
        }
        return self._push_update({"message": message})

    def _push_callback(self, user: EmulatedUser, message: BotMessage, data: str) -> int:
        """Queue a callback_query update for a button on a bot message."""
        query_id = str(8_000_000_000 + next(self._query_seq))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": str(-4_000_000_000 - message.chat_id),
            "data": data,
            "message": self._message_api(message),
        }
        return self._push_update({"callback_query": query})

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
    ) -> _StoredFile:
        """Keep file bytes under a fresh file_id and download path."""
        seq = next(self._file_seq)
        ext = ""
        if file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]
        elif folder == "photos":
            ext = ".jpg"
        stored = _StoredFile(
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
    def _document_api(stored: _StoredFile) -> dict[str, Any]:
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
    def _photo_size(stored: _StoredFile, side: int) -> dict[str, Any]:
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

    def _log_bot_message(self, msg: BotMessage, verb: str = "→") -> None:
        """Transcript lines for a bot message: text (continuation lines indented) + buttons."""
        user = self._users.get(msg.chat_id)
        prefix = f"[bot {verb} {user.first_name if user else msg.chat_id}] "
        lines: list[str] = []
        if msg.document is not None:
            lines.append(f"📎 {msg.document.get('file_name') or 'document'}")
        elif msg.photo is not None:
            lines.append("🖼 photo")
        if msg.text:
            lines.extend(msg.text.split("\n"))
        if not lines:
            lines.append("")
        self._log(prefix + lines[0])
        for line in lines[1:]:
            self._log(" " * len(prefix) + line)
        for row in msg.buttons:
            self._log("   " + " ".join(f"[ {text} ]" for text, _ in row))

    # ------------------------------------------------------------------ internals: HTTP

    async def _read_params(self, request: web.Request) -> _Params:
        """Collect parameters from the query string and a JSON, form or multipart body."""
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, _Upload] = {}
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    values.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        content = value.file.read()
                        uploads[key] = _Upload(value.filename, value.content_type, content)
                    else:
                        values[key] = value
        return _Params(values, uploads)

    @staticmethod
    def _sanitized(params: _Params) -> dict[str, Any]:
        """Parameters for the request log, with uploads summarized instead of their bytes."""
        logged = dict(params.values)
        for key, upload in params.uploads.items():
            logged[key] = f"<file {upload.filename!r}, {len(upload.content)} bytes>"
        return logged

    @staticmethod
    def _json_response(body: dict[str, Any], status: int) -> web.Response:
        """Serialize like Telegram (UTF-8, no ASCII escaping)."""
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            status=status,
            content_type="application/json",
        )

    def _error_response(self, record: ApiRequest, error: _ApiError) -> web.Response:
        """Record and build an error answer."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": error.status,
            "description": error.description,
        }
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        record.status = error.status
        record.error = True
        record.description = error.description
        record.retry_after = error.retry_after
        self._signal()
        return self._json_response(body, error.status)

    def _take_fault(self, method: str) -> _Fault | None:
        """Consume one scripted fault matching this method, if any."""
        for fault in self._faults:
            if fault.times > 0 and (fault.method == "*" or fault.method.lower() == method.lower()):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Entry point for POST/GET {base_url}{token}/{method}."""
        arrived = time.monotonic()
        method_raw = request.match_info["method"]
        known = self._methods.get(method_raw.lower())
        method = known[0] if known else method_raw
        try:
            params = await self._read_params(request)
        except (ValueError, aiohttp.ClientError):
            params = _Params({}, {})
        chat_id: int | None = None
        with contextlib.suppress(TypeError, ValueError):
            raw_chat = params.get("chat_id")
            chat_id = int(raw_chat) if raw_chat is not None else None
        record = ApiRequest(arrived, method, self._sanitized(params), chat_id=chat_id)
        self.requests.append(record)

        if request.match_info["token"] != self.token:
            return self._error_response(record, _ApiError(401, "Unauthorized"))
        fault = self._take_fault(method)
        if fault is not None and fault.status != 200:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 0:
                record.error = True
                record.description = "connection dropped"
                if request.transport is not None:
                    request.transport.close()
                # The transport is gone; aiohttp discards whatever we return here.
                return web.Response(status=500)
            description = fault.description or _DEFAULT_DESCRIPTIONS.get(fault.status, "Error")
            if fault.status == 429 and not fault.description:
                description = f"Too Many Requests: retry after {fault.retry_after or 1}"
            return self._error_response(
                record, _ApiError(fault.status, description, fault.retry_after)
            )
        if known is None:
            return self._error_response(record, _ApiError(404, "Not Found"))
        try:
            if self.flood_control and method in FLOOD_METHODS:
                self._check_flood(params)
            result = await known[1](params)
        except _ApiError as error:
            response = self._error_response(record, error)
        else:
            body: dict[str, Any] = {"ok": True, "result": result}
            if isinstance(result, tuple):
                # (result, description): Telegram adds e.g. "Webhook was set" to some answers.
                body["result"], body["description"] = result
            record.status = 200
            response = self._json_response(body, 200)
            self._signal()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return response

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        """GET {file_url}{token}/{file_path}: the stored bytes."""
        stored = self._files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return self._json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, 404
            )
        self.downloads.append(stored.file_path)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        """Anything else (e.g. a malformed token path) is 404 like Telegram."""
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return self._json_response(body, 404)

    def _check_flood(self, params: _Params) -> None:
        """Token buckets: global and per chat; 429 with retry_after when either is empty."""
        now = time.monotonic()
        waits = [self._global_bucket.wait_time(now)]
        chat_bucket: _Bucket | None = None
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(params.get("chat_id"))
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = _Bucket(self.chat_rate, self.chat_burst)
                self._chat_buckets[chat_id] = chat_bucket
            waits.append(chat_bucket.wait_time(now))
        wait = max(waits)
        if wait > 0:
            self.flood_count += 1
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        self._global_bucket.tokens -= 1
        if chat_bucket is not None:
            chat_bucket.tokens -= 1

    # ------------------------------------------------------------------ internals: webhook

    def _delivery_targets(self) -> list[str]:
        """Where updates go now: set_webhook_targets() wins over setWebhook's URL."""
        if self._webhook_targets:
            return self._webhook_targets
        return [self._webhook_url] if self._webhook_url else []

    async def _webhook_loop(self) -> None:
        """Deliver pending updates in order, one at a time, retrying failures."""
        while not self._closing:
            targets = self._delivery_targets()
            if not targets or not self._pending:
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                continue
            update = self._pending[0]
            url = targets[self._webhook_rr % len(targets)]
            self._webhook_rr += 1
            if await self._post_update(url, update):
                if self._pending and self._pending[0] is update:
                    self._pending.pop(0)
                self._fetched.add(update["update_id"])
                self.webhook_deliveries.append((update["update_id"], url))
                self._signal()
            else:
                await asyncio.sleep(self.webhook_retry_delay)

    async def _post_update(self, url: str, update: dict[str, Any]) -> bool:
        """POST one update; True on a 2xx answer."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self._webhook_secret
        try:
            async with self._session.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                message = f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            message = f"Connection failed: {exc!r}"
        self._webhook_last_error = (int(time.time()), message)
        return False

    # ------------------------------------------------------------------ internals: helpers

    def _chat(self, params: _Params, *, sending: bool) -> EmulatedUser:
        """The target chat; 400 if unknown, 403 if blocked and we are sending."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        user = self._users.get(chat_id)
        if user is None:
            raise _bad("chat not found")
        if sending and user.blocked:
            raise _ApiError(403, BLOCKED)
        return user

    @staticmethod
    def _format(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
        """Apply parse_mode; only HTML is interpreted (Markdown modes pass through as-is)."""
        if parse_mode and parse_mode.lower() == "html":
            try:
                return parse_html(text)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        if parse_mode and parse_mode.lower() not in {"markdown", "markdownv2"}:
            raise _bad(f"unsupported parse_mode {parse_mode!r}")
        return text, []

    @staticmethod
    def _parse_markup(params: _Params) -> dict[str, Any] | None:
        """Validate reply_markup like Telegram (notably callback_data of 1-64 UTF-8 bytes)."""
        error = "can't parse reply keyboard markup JSON object"
        markup = params.get_json("reply_markup", error)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad(error)
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad("can't parse inline keyboard button: Text must be a String")
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(str(data).encode("utf-8"))
                        if not isinstance(data, str) or not 1 <= size <= 64:
                            raise _bad("BUTTON_DATA_INVALID")
                    elif "url" in button:
                        if not button["url"]:
                            raise _bad("BUTTON_URL_INVALID")
                    elif len(button) == 1:
                        raise _bad(
                            "can't parse inline keyboard button: "
                            "Text buttons are unallowed in the inline keyboard"
                        )
        return markup

    @staticmethod
    def _buttons(markup: dict[str, Any] | None) -> list[list[tuple[str, str | None]]]:
        """Rows of (label, callback_data or url) from an inline or reply keyboard."""
        if not markup:
            return []
        rows: list[list[tuple[str, str | None]]] = []
        for row in markup.get("inline_keyboard", []):
            rows.append([(b["text"], b.get("callback_data", b.get("url"))) for b in row])
        for row in markup.get("keyboard", []):
            rows.append([(b if isinstance(b, str) else b.get("text", ""), None) for b in row])
        return rows

    def _text_and_entities(
        self, params: _Params, key: str, limit: int, too_long: str, *, required: bool
    ) -> tuple[str, str | None, list[dict[str, Any]]]:
        """Parse text/caption with parse_mode and check emptiness and length."""
        raw = params.get_str(key) or ""
        parse_mode = params.get_str("parse_mode") or None
        plain, entities = self._format(raw, parse_mode)
        if required and not plain.strip():
            raise _bad("message text is empty")
        if len(plain) > limit:
            raise _bad(too_long)
        return plain, parse_mode, entities

    def _find_message(self, params: _Params, what: str) -> BotMessage:
        """The bot message addressed by chat_id + message_id, else 400 "... not found"."""
        if params.get("inline_message_id"):
            raise _bad(f"message {what} not found")
        user = self._chat(params, sending=False)
        message_id = params.get_int("message_id", "message identifier is not specified")
        msg = self._by_key.get((user.id, message_id or 0))
        if msg is None or msg.deleted:
            raise _bad(f"message {what} not found")
        return msg

    def _new_bot_message(self, user: EmulatedUser, **fields: Any) -> BotMessage:
        """Create, store and log a bot message."""
        msg = BotMessage(
            message_id=self._new_message_id(user.id),
            chat_id=user.id,
            date=int(time.time()),
            **fields,
        )
        msg.buttons = self._buttons(msg.reply_markup)
        self._messages.append(msg)
        self._by_key[(user.id, msg.message_id)] = msg
        self._log_bot_message(msg)
        return msg

    def _media(self, params: _Params, key: str, folder: str) -> _StoredFile:
        """The file for sendDocument/sendPhoto: an upload, attach://name, or a known file_id."""
        upload = params.uploads.get(key)
        value = params.get_str(key)
        if upload is None and value and value.startswith("attach://"):
            upload = params.uploads.get(value[len("attach://") :])
        if upload is not None:
            if not upload.content:
                raise _bad("file must be non-empty")
            name = upload.filename if folder == "documents" else None
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = (mimetypes.guess_type(name)[0] if name else None) or mime
            return self._store_file(upload.content, name, mime, folder)
        if not value:
            raise _bad(f"there is no {key} in the request")
        stored = self._files.get(value)
        if stored is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return stored

    # ------------------------------------------------------------------ API methods

    async def _api_true(self, params: _Params) -> Any:
        """Methods the emulator accepts without modelling them."""
        return True

    async def _api_get_me(self, params: _Params) -> Any:
        """getMe."""
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_get_updates(self, params: _Params) -> Any:
        """getUpdates with offset acknowledgement, limit and long polling."""
        if self._delivery_targets():
            raise _ApiError(409, WEBHOOK_CONFLICT)
        offset = params.get_int("offset")
        limit = params.get_int("limit") or 100
        limit = max(1, min(limit, 100))
        timeout = max(0, params.get_int("timeout") or 0)
        if offset is not None:
            if offset < 0:
                # Negative offset: keep only the last -offset updates.
                del self._pending[: max(0, len(self._pending) + offset)]
            else:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if not self._pending and timeout:
            await self._wait(
                lambda: bool(self._pending) or bool(self._delivery_targets()), float(timeout)
            )
        if self._delivery_targets():
            raise _ApiError(409, WEBHOOK_CONFLICT)
        batch = self._pending[:limit]
        self._fetched.update(u["update_id"] for u in batch)
        return batch

    async def _api_set_webhook(self, params: _Params) -> Any:
        """setWebhook (an empty url removes it). Plain http is allowed on loopback."""
        url = params.get_str("url") or ""
        secret = params.get_str("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get_bool("drop_pending_updates"):
            self._pending.clear()
        self._webhook_url = url
        self._webhook_secret = secret
        self._webhook_last_error = None
        self._signal()
        return True, ("Webhook was set" if url else "Webhook was deleted")

    async def _api_delete_webhook(self, params: _Params) -> Any:
        """deleteWebhook (set_webhook_targets() targets stay until cleared by the test)."""
        if params.get_bool("drop_pending_updates"):
            self._pending.clear()
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        self._signal()
        return True, ("Webhook was deleted" if was_set else "Webhook is already deleted")

    async def _api_get_webhook_info(self, params: _Params) -> Any:
        """getWebhookInfo."""
        targets = self._delivery_targets()
        info: dict[str, Any] = {
            "url": targets[0] if targets else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if targets:
            info["max_connections"] = 40
            info["ip_address"] = self.host
        if self._webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _api_send_message(self, params: _Params) -> Any:
        """sendMessage."""
        user = self._chat(params, sending=True)
        raw = params.get_str("text") or ""
        plain, parse_mode, entities = self._text_and_entities(
            params, "text", MAX_TEXT_LENGTH, "message is too long", required=True
        )
        markup = self._parse_markup(params)
        msg = self._new_bot_message(
            user,
            text=plain,
            html=raw,
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
        )
        return self._message_api(msg)

    def _apply_edit(
        self,
        msg: BotMessage,
        *,
        text: str,
        raw: str | None,
        parse_mode: str | None,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> Any:
        """Shared by the edit methods: "not modified" check, in-place update, transcript."""
        old_markup = msg.reply_markup
        if old_markup is not None and "inline_keyboard" not in old_markup:
            old_markup = None
        if (text, entities, markup) == (msg.text, msg.entities, old_markup):
            raise _bad(NOT_MODIFIED)
        msg.text, msg.html, msg.parse_mode, msg.entities = text, raw, parse_mode, entities
        msg.reply_markup = markup
        msg.buttons = self._buttons(markup)
        msg.edits += 1
        msg.edit_date = int(time.time())
        self._log_bot_message(msg, "✎")
        return self._message_api(msg)

    async def _api_edit_message_text(self, params: _Params) -> Any:
        """editMessageText (omitting reply_markup removes the keyboard, as in Telegram)."""
        msg = self._find_message(params, "to edit")
        if msg.document is not None or msg.photo is not None:
            raise _bad("there is no text in the message to edit")
        plain, parse_mode, entities = self._text_and_entities(
            params, "text", MAX_TEXT_LENGTH, "message is too long", required=True
        )
        markup = self._parse_markup(params)
        return self._apply_edit(
            msg,
            text=plain,
            raw=params.get_str("text"),
            parse_mode=parse_mode,
            entities=entities,
            markup=markup,
        )

    async def _api_edit_message_caption(self, params: _Params) -> Any:
        """editMessageCaption."""
        msg = self._find_message(params, "to edit")
        if msg.document is None and msg.photo is None:
            raise _bad("there is no caption in the message to edit")
        plain, parse_mode, entities = self._text_and_entities(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long", required=False
        )
        markup = self._parse_markup(params)
        return self._apply_edit(
            msg,
            text=plain,
            raw=params.get_str("caption"),
            parse_mode=parse_mode,
            entities=entities,
            markup=markup,
        )

    async def _api_edit_message_reply_markup(self, params: _Params) -> Any:
        """editMessageReplyMarkup."""
        msg = self._find_message(params, "to edit")
        markup = self._parse_markup(params)
        return self._apply_edit(
            msg,
            text=msg.text,
            raw=msg.html,
            parse_mode=msg.parse_mode,
            entities=msg.entities,
            markup=markup,
        )

    async def _api_delete_message(self, params: _Params) -> Any:
        """deleteMessage (bot messages are kept, flagged deleted)."""
        user = self._chat(params, sending=False)
        message_id = params.get_int("message_id", "message identifier is not specified") or 0
        msg = self._by_key.get((user.id, message_id))
        if msg is not None and not msg.deleted:
            msg.deleted = True
            self._log(f"[bot ✗ {user.first_name}] deletes message #{message_id}")
            return True
        if (user.id, message_id) in self._user_messages:
            self._user_messages.discard((user.id, message_id))
            return True
        raise _bad("message to delete not found")

    async def _api_answer_callback_query(self, params: _Params) -> Any:
        """answerCallbackQuery: each query can be answered once."""
        query_id = params.get_str("callback_query_id") or ""
        if query_id not in self._open_queries:
            raise _bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        self._open_queries.discard(query_id)
        text = params.get_str("text")
        alert = params.get_bool("show_alert")
        self.callback_answers[query_id] = text
        self.callback_alerts[query_id] = alert
        if text:
            self._log(f"   ({'alert' if alert else 'toast'}: {text})")
        return True

    async def _send_media(self, params: _Params, key: str, folder: str) -> Any:
        """sendDocument / sendPhoto."""
        user = self._chat(params, sending=True)
        stored = self._media(params, key, folder)
        plain, parse_mode, entities = self._text_and_entities(
            params, "caption", MAX_CAPTION_LENGTH, "message caption is too long", required=False
        )
        markup = self._parse_markup(params)
        media: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "content": stored.content,
        }
        msg = self._new_bot_message(
            user,
            text=plain,
            html=params.get_str("caption"),
            parse_mode=parse_mode,
            entities=entities,
            reply_markup=markup,
            **({"document": media} if key == "document" else {"photo": media}),
        )
        return self._message_api(msg)

    async def _api_send_document(self, params: _Params) -> Any:
        """sendDocument."""
        return await self._send_media(params, "document", "documents")

    async def _api_send_photo(self, params: _Params) -> Any:
        """sendPhoto."""
        return await self._send_media(params, "photo", "photos")

    async def _api_send_chat_action(self, params: _Params) -> Any:
        """sendChatAction."""
        self._chat(params, sending=True)
        return True

    async def _api_get_chat(self, params: _Params) -> Any:
        """getChat (private chats only)."""
        user = self._chat(params, sending=False)
        return {**user.chat_api(), "accent_color_id": 0, "max_reaction_count": 11}

    async def _api_get_file(self, params: _Params) -> Any:
        """getFile: metadata plus a download path, refused above max_download_bytes."""
        stored = self._files.get(params.get_str("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.content) > self.max_download_bytes:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: _Params) -> str:
        """Commands are stored per (scope, language_code)."""
        scope = params.get_json("scope", "can't parse BotCommandScope JSON object")
        scope = scope or {"type": "default"}
        return json.dumps([scope, params.get_str("language_code") or ""], sort_keys=True)

    async def _api_set_my_commands(self, params: _Params) -> Any:
        """setMyCommands."""
        commands = params.get_json("commands", "can't parse commands JSON object")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description must be non-empty")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _api_get_my_commands(self, params: _Params) -> Any:
        """getMyCommands."""
        return self.commands.get(self._commands_key(params), [])

    async def _api_delete_my_commands(self, params: _Params) -> Any:
        """deleteMyCommands."""
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_get_chat_menu_button(self, params: _Params) -> Any:
        """getChatMenuButton."""
        return {"type": "commands"}

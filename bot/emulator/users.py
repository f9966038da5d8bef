"""Emulated users: people in private chats with the bot, whom tests and the demo drive."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from typing import Any, Protocol

from bot.emulator.html import utf16_len
from bot.emulator.records import BotMessage, StoredFile


class Desk(Protocol):
    """What an emulated user asks of the emulator (BotApiEmulator is one)."""

    def _log(self, line: str) -> None: ...
    def _push_message(self, user: EmulatedUser, content: dict[str, Any]) -> int: ...
    def _push_callback(self, user: EmulatedUser, message: BotMessage, data: str) -> int: ...
    def _store_file(
        self, content: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile: ...
    def _document_api(self, stored: StoredFile) -> dict[str, Any]: ...
    def _photo_size(self, stored: StoredFile, side: int) -> dict[str, Any]: ...
    def messages(self, chat_id: int | None = None) -> list[BotMessage]: ...
    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10) -> None: ...  # noqa: ASYNC109


class EmulatedUser:
    """A Telegram user in a private chat with the bot, driven from tests."""

    def __init__(
        self,
        emulator: Desk,
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
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
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

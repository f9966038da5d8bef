"""What the emulator keeps of the traffic: the API calls, the bot's messages, the files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
class StoredFile:
    """A file known to the emulator, downloadable by the bot."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str

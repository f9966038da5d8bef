"""The bot that never sends what Telegram refuses for its size (PRODUCT §5).

Every request the product makes goes through this `ExtBot`: a text over 4,096 characters
leaves as several messages (the keyboard on the last), a caption over 1,024 goes before its
document as a message of its own. Screens are built to fit (pages, packed reports); this is
the guarantee underneath them, so that no reply and no push is ever refused as too long.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Message
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram.constants import ParseMode
from telegram.ext import ExtBot

from messages.long_text import MAX_CAPTION, MAX_TEXT, split_html, visible_length

_HTML = (ParseMode.HTML, "HTML", "html")


def _is_html(bot: ExtBot[Any], kwargs: dict[str, Any]) -> bool:
    """Whether the text is HTML: its parse mode, or the bot's default one when left unset."""
    mode = kwargs.get("parse_mode", DEFAULT_NONE)
    if isinstance(mode, DefaultValue):
        mode = bot.defaults.parse_mode if bot.defaults else None
    return mode is not None and str(mode) in _HTML


def _split(text: str, as_html: bool, limit: int) -> list[str]:
    if as_html:
        return split_html(text, limit)
    return [html.unescape(p) for p in split_html(html.escape(text, quote=False), limit)]


def _length(text: str, as_html: bool) -> int:
    return visible_length(text) if as_html else visible_length(html.escape(text, quote=False))


class FittingBot(ExtBot[Any]):
    """An ExtBot whose texts and captions always fit Telegram's limits."""

    async def send_message(  # type: ignore[override]
        self, chat_id: int | str, text: str, **kwargs: Any
    ) -> Message:
        """A long text as several messages in order; the keyboard (if any) on the last."""
        parts = _split(text, _is_html(self, kwargs), MAX_TEXT)
        if len(parts) == 1:
            return await super().send_message(chat_id, text, **kwargs)
        first = {k: v for k, v in kwargs.items() if k != "reply_markup"}
        for part in parts[:-1]:
            await super().send_message(chat_id, part, **first)
            first.pop("reply_parameters", None)  # only the first part answers a message
            first.pop("reply_to_message_id", None)
        return await super().send_message(chat_id, parts[-1], **first, **_markup(kwargs))

    async def edit_message_text(  # type: ignore[override]
        self, text: str, chat_id: int | str | None = None, **kwargs: Any
    ) -> Message | bool:
        """An edit that would be too long keeps the first part; the rest follows as messages."""
        parts = _split(text, _is_html(self, kwargs), MAX_TEXT)
        edited = await super().edit_message_text(parts[0], chat_id, **kwargs)
        if len(parts) > 1 and chat_id is not None:
            rest = {k: v for k, v in kwargs.items() if k in ("parse_mode",)}
            for part in parts[1:]:
                await super().send_message(chat_id, part, **rest)
        return edited

    async def send_document(  # type: ignore[override]
        self, chat_id: int | str, document: Any, caption: str | None = None, **kwargs: Any
    ) -> Message:
        """A caption too long for a document goes before it, as a message of its own."""
        if caption and _length(caption, _is_html(self, kwargs)) > MAX_CAPTION:
            text = {k: v for k, v in kwargs.items() if k in ("parse_mode", "reply_parameters")}
            await self.send_message(chat_id, caption, **text)
            kwargs.pop("reply_parameters", None)
            caption = None
        return await super().send_document(chat_id, document, caption=caption, **kwargs)


def _markup(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"reply_markup": kwargs["reply_markup"]} if "reply_markup" in kwargs else {}

"""The Bot API methods on messages: send, edit, delete, answer a button, the chat itself;
with Telegram's checks (HTML, lengths, keyboards, "not modified", blocked users)."""

from __future__ import annotations

import time
from typing import Any

from bot.emulator.html import HtmlParseError, parse_html
from bot.emulator.records import BotMessage
from bot.emulator.state import EmulatorState
from bot.emulator.users import EmulatedUser
from bot.emulator.wire import ApiError, Params, bad

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_INLINE_BUTTONS = 100  # per keyboard: more is refused as "reply markup is too long"
MAX_INLINE_ROW = 8  # buttons in one row of an inline keyboard
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class MessageMethods(EmulatorState):
    """The part of the emulator that keeps the bot's messages."""

    def _chat(self, params: Params, *, sending: bool) -> EmulatedUser:
        """The target chat; 400 if unknown, 403 if blocked and we are sending."""
        value = params.get("chat_id")
        if value is None or value == "":
            raise bad("chat_id is empty")
        try:
            chat_id = int(value)
        except (TypeError, ValueError):
            raise bad("chat not found") from None
        user = self._users.get(chat_id)
        if user is None:
            raise bad("chat not found")
        if sending and user.blocked:
            raise ApiError(403, BLOCKED)
        return user

    @staticmethod
    def _format(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
        """Apply parse_mode; only HTML is interpreted (Markdown modes pass through as-is)."""
        if parse_mode and parse_mode.lower() == "html":
            try:
                return parse_html(text)
            except HtmlParseError as exc:
                raise bad(f"can't parse entities: {exc}") from None
        if parse_mode and parse_mode.lower() not in {"markdown", "markdownv2"}:
            raise bad(f"unsupported parse_mode {parse_mode!r}")
        return text, []

    @staticmethod
    def _parse_markup(params: Params) -> dict[str, Any] | None:
        """Validate reply_markup like Telegram (notably callback_data of 1-64 UTF-8 bytes)."""
        error = "can't parse reply keyboard markup JSON object"
        markup = params.get_json("reply_markup", error)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad(error)
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
            count = sum(len(r) for r in rows)
            if count > MAX_INLINE_BUTTONS or any(len(r) > MAX_INLINE_ROW for r in rows):
                raise bad("reply markup is too long")
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise bad("can't parse inline keyboard button: Text must be a String")
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(str(data).encode("utf-8"))
                        if not isinstance(data, str) or not 1 <= size <= 64:
                            raise bad("BUTTON_DATA_INVALID")
                    elif "url" in button:
                        if not button["url"]:
                            raise bad("BUTTON_URL_INVALID")
                    elif len(button) == 1:
                        raise bad(
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
        self, params: Params, key: str, limit: int, too_long: str, *, required: bool
    ) -> tuple[str, str | None, list[dict[str, Any]]]:
        """Parse text/caption with parse_mode and check emptiness and length."""
        raw = params.get_str(key) or ""
        parse_mode = params.get_str("parse_mode") or None
        plain, entities = self._format(raw, parse_mode)
        if required and not plain.strip():
            raise bad("message text is empty")
        if len(plain) > limit:
            raise bad(too_long)
        return plain, parse_mode, entities

    def _find_message(self, params: Params, what: str) -> BotMessage:
        """The bot message addressed by chat_id + message_id, else 400 "... not found"."""
        if params.get("inline_message_id"):
            raise bad(f"message {what} not found")
        user = self._chat(params, sending=False)
        message_id = params.get_int("message_id", "message identifier is not specified")
        msg = self._by_key.get((user.id, message_id or 0))
        if msg is None or msg.deleted:
            raise bad(f"message {what} not found")
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

    def _log_bot_message(self, msg: BotMessage, verb: str = "→") -> None:
        """Transcript lines for a bot message: text (continuation lines indented) + buttons."""
        user = self._users.get(msg.chat_id)
        prefix = f"[bot {verb} {user.first_name if user else msg.chat_id}] "
        lines: list[str] = []
        if msg.document is not None:
            size = len(msg.document.get("content") or b"")
            lines.append(f"📎 {msg.document.get('file_name') or 'document'} ({size:,} bytes)")
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

    # ------------------------------------------------------------------ API methods

    async def _api_send_message(self, params: Params) -> Any:
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
            raise bad(NOT_MODIFIED)
        msg.text, msg.html, msg.parse_mode, msg.entities = text, raw, parse_mode, entities
        msg.reply_markup = markup
        msg.buttons = self._buttons(markup)
        msg.edits += 1
        msg.edit_date = int(time.time())
        self._log_bot_message(msg, "✎")
        return self._message_api(msg)

    async def _api_edit_message_text(self, params: Params) -> Any:
        """editMessageText (omitting reply_markup removes the keyboard, as in Telegram)."""
        msg = self._find_message(params, "to edit")
        if msg.document is not None or msg.photo is not None:
            raise bad("there is no text in the message to edit")
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

    async def _api_edit_message_caption(self, params: Params) -> Any:
        """editMessageCaption."""
        msg = self._find_message(params, "to edit")
        if msg.document is None and msg.photo is None:
            raise bad("there is no caption in the message to edit")
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

    async def _api_edit_message_reply_markup(self, params: Params) -> Any:
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

    async def _api_delete_message(self, params: Params) -> Any:
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
        raise bad("message to delete not found")

    async def _api_answer_callback_query(self, params: Params) -> Any:
        """answerCallbackQuery: each query can be answered once."""
        query_id = params.get_str("callback_query_id") or ""
        if query_id not in self._open_queries:
            raise bad(QUERY_TOO_OLD.removeprefix("Bad Request: "))
        self._open_queries.discard(query_id)
        text = params.get_str("text")
        alert = params.get_bool("show_alert")
        self.callback_answers[query_id] = text
        self.callback_alerts[query_id] = alert
        if text:
            self._log(f"   ({'alert' if alert else 'toast'}: {text})")
        return True

    async def _api_send_chat_action(self, params: Params) -> Any:
        """sendChatAction."""
        self._chat(params, sending=True)
        return True

    async def _api_get_chat(self, params: Params) -> Any:
        """getChat (private chats only)."""
        user = self._chat(params, sending=False)
        return {**user.chat_api(), "accent_color_id": 0, "max_reaction_count": 11}

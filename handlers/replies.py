"""The two ways every handler answers: a reply (or a button's pop-up), and a new message
after taking a pressed button's keyboard away."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest


async def answer(update: Update, html_text: str, alert: str | None = None) -> None:
    """Reply to a message, or answer a button press with a pop-up and a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(alert, show_alert=alert is not None)
        if update.effective_chat is not None and alert is None:
            await update.effective_chat.send_message(html_text)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(html_text)


async def say_anew(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer with a new message; a pressed button's old keyboard is taken away first."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        with contextlib.suppress(BadRequest):  # already without buttons
            await update.callback_query.edit_message_reply_markup(None)
    assert update.effective_chat is not None
    await update.effective_chat.send_message(text, reply_markup=markup)

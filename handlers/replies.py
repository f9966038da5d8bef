"""The ways every handler answers: a reply (or a button's pop-up), a new message after
taking a pressed button's keyboard away, and one page of a list a person browses."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from messages.keyboards import grid, page_row


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


async def show_page(
    update: Update, screens: Sequence[str], page: int, prefix: str, action: str, *args: int | str
) -> None:
    """Page `page` of a browsed list, with the page row (buttons/page) when there are several:
    a new message for a command, the pressed message itself for a page button."""
    page = min(max(page, 0), len(screens) - 1)
    markup = (
        grid([page_row(page, len(screens), prefix, action, *args)]) if len(screens) > 1 else None
    )
    query = update.callback_query
    if query is not None:
        await query.answer()
        with contextlib.suppress(BadRequest):  # the page shown pressed again: nothing to change
            await query.edit_message_text(screens[page], reply_markup=markup)
        return
    assert update.effective_message is not None
    await update.effective_message.reply_text(screens[page], reply_markup=markup)


async def turn_keyboard(update: Update, markup: InlineKeyboardMarkup) -> None:
    """Another page of a long keyboard: the pressed message keeps its text, its buttons change."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    with contextlib.suppress(BadRequest):  # the page shown pressed again: nothing to change
        await update.callback_query.edit_message_reply_markup(markup)

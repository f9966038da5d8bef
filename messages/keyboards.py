"""Inline keyboards: labels are templates under templates/buttons/, data come from callbacks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from jinja2 import TemplateNotFound
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from messages import render_text
from messages.callbacks import pack

_KEY = re.compile(r"[a-z][a-z0-9_]*")


def label(key: str, /, **values: Any) -> str:
    """The words of button `key` (templates/buttons/<key>.txt); KeyError naming it if none."""
    name = f"buttons/{key}"
    if not _KEY.fullmatch(key):  # words, not a key: showing them would hide the mistake
        raise KeyError(f"{key!r} is not a button label key; words already made go to text_button")
    try:
        return render_text(name, **values)
    except TemplateNotFound as exc:
        if exc.name != f"{name}.txt":  # a missing include of an existing label: not ours
            raise
        raise KeyError(
            f"no button label {key!r}: messages/templates/{name}.txt does not exist"
        ) from None


def button(label_key: str, prefix: str, action: str, *args: int | str) -> InlineKeyboardButton:
    """One button labelled by templates/buttons/<label_key>.txt (KeyError if it is missing)."""
    return text_button(label(label_key), prefix, action, *args)


def text_button(text: str, prefix: str, action: str, *args: int | str) -> InlineKeyboardButton:
    """One button whose label is words already made: a title (shortened), a label(...)."""
    return InlineKeyboardButton(text, callback_data=pack(prefix, action, *args))


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    """Buttons laid out `per_row` to a row."""
    items = list(buttons)
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])


def grid(layout: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """Buttons in the given rows."""
    return InlineKeyboardMarkup([list(r) for r in layout])


def page_row(
    page: int, pages: int, prefix: str, action: str, *args: int | str
) -> list[InlineKeyboardButton]:
    """‹ Trước · n/m · Sau › for page `page` (from 0) of `pages`; each button's data end with
    the page it shows (after `args`)."""
    return [
        text_button(
            render_text("buttons/page", which=which, page=n + 1, pages=pages),
            prefix,
            action,
            *args,
            n,
        )
        for which, n in (("prev", page - 1), ("at", page), ("next", page + 1))
        if 0 <= n < pages
    ]


def task_button(done: bool, no: int, task_id: int) -> InlineKeyboardButton:
    """The button that marks a task done, or takes the mark back."""
    return text_button(label("task", done=done, no=no), "nv", "u" if done else "d", task_id)


KEYS_PER_PAGE = 40  # choice buttons on one page of a long keyboard: well under Telegram's 100


def paged(
    buttons: Sequence[InlineKeyboardButton],
    page: int,
    prefix: str,
    action: str,
    *args: int | str,
    per_page: int = KEYS_PER_PAGE,
) -> tuple[list[list[InlineKeyboardButton]], int]:
    """One page of `buttons` (one to a row) and, when there are several, the
    ‹ Trước · n/N · Sau › row whose data end with the page (after `args`). Returns the rows and
    the page shown (clamped), so that any number of choices fits in one keyboard."""
    pages = max(1, -(-len(buttons) // per_page))
    page = min(max(page, 0), pages - 1)
    layout = [[b] for b in buttons[page * per_page : (page + 1) * per_page]]
    if pages > 1:
        layout.append(page_row(page, pages, prefix, action, *args))
    return layout, page

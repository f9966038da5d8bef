"""Every sentence a person reads: Jinja2 templates rendered by one helper."""

from __future__ import annotations

import contextlib
import unicodedata
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup

from messages.organizations import current_org
from messages.text import shorten


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _next_day(value: date) -> date:
    return value + timedelta(days=1)


def _dmy_hm(value: datetime) -> str:
    return value.strftime("%H:%M %d/%m/%Y")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@pass_eval_context
def _named(context: EvalContext, name: str, word: str) -> str:
    """`phong trào "Thi đua …"`, or `"Phong trào thi đua …"` alone: never the word twice.

    Case does not matter, diacritics do ("Phong trao …" keeps the word before it)."""
    folded, lead = _fold(name), _fold(word)
    rest = folded[len(lead) :]
    said = folded.startswith(lead) and (not rest or not rest[0].isalnum())
    shape = '"{name}"' if said else '{word} "{name}"'
    if context.autoescape:
        return Markup(shape).format(word=word, name=name)
    return shape.format(word=word, name=name)


_loader = PackageLoader("messages", "templates")
_env = Environment(
    loader=_loader,
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    auto_reload=False,  # templates ship with the code: never stat them per message
)
_env.filters.update(dmy=_dmy, dmy_hm=_dmy_hm, next_day=_next_day, shorten=shorten, named=_named)


@cache
def words(name: str, /) -> dict[str, Any]:
    """Words kept as data (`templates/<name>.yaml`): names and menus rather than screens."""
    source, _, _ = _loader.get_source(_env, f"{name}.yaml")
    loaded: dict[str, Any] = yaml.safe_load(source)
    return loaded


_roles: dict[str, dict[str, str]] = words("commands")["roles"]
# What ends a flow when typed alone, besides /huy: the words people type (commands.yaml).
CANCEL_WORDS: frozenset[str] = frozenset(w.casefold() for w in words("commands")["cancel_words"])
_env.globals.update(
    ROLE_LABELS={role: w["label"] for role, w in _roles.items()},
    ROLE_AUDIENCES={role: w["audience"] for role, w in _roles.items()},
)


# The channels a message may be rendered for (PRODUCT §12); the words differ where the next
# step does: Zalo has no buttons, no files and no slash commands, only a few text words.
TELEGRAM, ZALO = "telegram", "zalo"
CHANNELS = (TELEGRAM, ZALO)
_channel: ContextVar[str] = ContextVar("channel", default=TELEGRAM)


def current_channel() -> str:
    """The channel the messages rendered now are for: Telegram unless `on_channel` says."""
    return _channel.get()


@contextlib.contextmanager
def on_channel(channel: str) -> Iterator[None]:
    """Messages rendered inside are for this channel ("telegram" or "zalo")."""
    if channel not in CHANNELS:
        raise ValueError(f"no channel {channel!r}: one of {', '.join(CHANNELS)}")
    token = _channel.set(channel)
    try:
        yield
    finally:
        _channel.reset(token)


def _defaults(values: dict[str, Any]) -> dict[str, Any]:
    """What every template may use: the body spoken for (`org`), the channel (`zalo`)."""
    values.setdefault("org", current_org())
    values.setdefault("zalo", _channel.get() == ZALO)
    return values


def render(screen: str, /, **values: Any) -> str:
    """A chat screen as Telegram HTML; every value is escaped. `org` is the body spoken for;
    `zalo` is true inside `on_channel("zalo")` (the text is then made plain: messages.plain)."""
    return _env.get_template(f"{screen}.html").render(**_defaults(values)).strip()


def render_text(name: str, /, **values: Any) -> str:
    """Plain text: terminal lines (`cli/`), button labels (`buttons/`), pop-ups (`alerts/`)."""
    return _env.get_template(f"{name}.txt").render(**_defaults(values)).strip()

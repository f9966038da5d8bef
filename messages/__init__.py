"""Every sentence a person reads: Jinja2 templates rendered by one helper."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from messages.commands import ROLE_AUDIENCES, ROLE_LABELS
from messages.organizations import current_org


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _next_day(value: date) -> date:
    return value + timedelta(days=1)


def _dmy_hm(value: datetime) -> str:
    return value.strftime("%H:%M %d/%m/%Y")


_env = Environment(
    loader=PackageLoader("messages", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    auto_reload=False,  # templates ship with the code: never stat them per message
)
_env.filters.update(dmy=_dmy, dmy_hm=_dmy_hm, next_day=_next_day)
_env.globals.update(ROLE_LABELS=ROLE_LABELS, ROLE_AUDIENCES=ROLE_AUDIENCES)


def render(screen: str, /, **values: Any) -> str:
    """A chat screen as Telegram HTML; every value is escaped. `org` is the body spoken for."""
    values.setdefault("org", current_org())
    return _env.get_template(f"{screen}.html").render(**values).strip()


def render_text(name: str, /, **values: Any) -> str:
    """Plain text: the operator's terminal (`cli/…`) or a button's pop-up answer (`alerts/…`)."""
    values.setdefault("org", current_org())
    return _env.get_template(f"{name}.txt").render(**values).strip()

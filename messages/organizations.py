"""The words of the body a message speaks for: "Văn phòng Sở", "toàn Sở", "Giám đốc Sở".

They are data (a units file's `organization`); what a file leaves out is filled in from the
body's name by `templates/organization_words.yaml`, and failing that by plain words. The body
of the update (or push) being answered is set once per update, so every template can say
`{{ org.office }}` without each handler passing it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class OrgWords:
    """How messages name a body, its office, its head and itself in "toàn …"."""

    name: str
    office: str
    head: str
    short: str

    @property
    def leaders(self) -> str:
        """The body's leadership ("Lãnh đạo Sở")."""
        return str(_words()["leaders"]).format(short=self.short)


@cache
def _words() -> dict[str, Any]:
    text = (
        resources.files("messages")
        .joinpath("templates/organization_words.yaml")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def org_words(
    name: str, office: str | None = None, head: str | None = None, short: str | None = None
) -> OrgWords:
    """The body's words: those given, else the usual ones for a name like it."""
    data = _words()
    folded = name.casefold()
    usual: dict[str, str] = dict(data["default"])
    for rule in data["by_name"]:
        if any(folded.startswith(prefix.casefold()) for prefix in rule["starts"]):
            usual |= {k: v for k, v in rule.items() if k != "starts"}
            break
    return OrgWords(
        name=name,
        office=office or usual["office"],
        head=head or usual["head"],
        short=short or usual["short"],
    )


_current: ContextVar[OrgWords | None] = ContextVar("org_words", default=None)


def current_org() -> OrgWords:
    """The words of the body being answered (plain words when none is known)."""
    return _current.get() or org_words("")


def speak_for(words: OrgWords) -> None:
    """From now on in this update (this task), messages speak for this body."""
    _current.set(words)


@contextlib.contextmanager
def speaking_for(words: OrgWords) -> Iterator[None]:
    """Messages rendered inside speak for this body."""
    token = _current.set(words)
    try:
        yield
    finally:
        _current.reset(token)

"""Screens for a channel without formatting (Zalo): the same words as plain text, in parts
that fit the channel's limit.

- `plain_text`: a rendered Telegram HTML screen as plain text (tags out, a link as its text and
  its address, entities as the characters they stand for).
- `split_plain`: a plain text in as many parts as the limit needs, cut at a blank line, else a
  line, else a space (the same cuts as `split_html`).
- `plain_parts`: both, for a rendered screen.

Lengths are counted in UTF-16 units, as Zalo's 2,000-character limit is counted by the adapter
(scheduler/delivery/zalo.py), so an emoji never pushes a part over it.
"""

from __future__ import annotations

import html
import re

from messages.long_text import split_html

ZALO_MAX_TEXT = 2000  # the Zalo Bot Platform's limit for sendMessage's text

_LINK = re.compile(
    r"""<a\s[^<>]*?href\s*=\s*(["'])(?P<href>.*?)\1[^<>]*>(?P<text>.*?)</a\s*>""", re.S
)
_TAG = re.compile(r"<[^<>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def units(text: str) -> int:
    """UTF-16 code units of a plain text."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _link(match: re.Match[str]) -> str:
    href, text = match.group("href"), match.group("text")
    shown = html.unescape(_TAG.sub("", text)).strip()
    address = html.unescape(href).strip()
    if not address or address == shown or address.startswith("tg://"):
        return text
    return f"{text} ({html.escape(address, quote=False)})"


def plain_text(html_text: str) -> str:
    """A Telegram HTML screen as plain text: what the person reads, without the markup."""
    text = _LINK.sub(_link, html_text)
    text = html.unescape(_TAG.sub("", text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def split_plain(text: str, limit: int = ZALO_MAX_TEXT) -> list[str]:
    """The text in parts of at most `limit` UTF-16 units, cut where a reader expects it."""
    if not text.strip():
        return []
    # split_html on the escaped text: it never cuts inside an entity and counts each as one
    # character, so the parts unescaped are the cuts of the plain text itself.
    return [html.unescape(part) for part in split_html(html.escape(text, quote=False), limit)]


def plain_parts(html_text: str, limit: int = ZALO_MAX_TEXT) -> list[str]:
    """A rendered screen as the plain-text messages of a channel with this limit."""
    return split_plain(plain_text(html_text), limit)

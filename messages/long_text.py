"""The one way to send a long text (PRODUCT §5: never cut, never refused).

- `split_html`: a rendered message in as many messages as Telegram's limit needs, cut at a
  blank line, else a line, else a space, never inside a tag or an entity; a tag open at a cut
  is closed there and opened again in the next part.
- `pages`: a list a person browses, one screen per page (its heading and foot on every page),
  for the ‹ Trước · n/N · Sau › buttons.
- `pack_blocks`: blocks joined into as few messages as fit (reports and pushes).

Lengths are counted as Telegram counts them: the text after entity parsing, in UTF-16 units.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_TEXT = 4096  # Telegram's limit for one message's text (MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION = 1024  # for a document's caption (MessageLimit.CAPTION_LENGTH)
PAGE_ROOM = 96  # kept free on a page for a "(tiếp theo)" and the like

_TOKEN = re.compile(r"<[^<>]*>|&#?[A-Za-z0-9]+;|[^<&]|[<&]")
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][A-Za-z0-9-]*)")


def _units(text: str) -> int:
    """UTF-16 code units: how Telegram measures a text (an emoji may count two)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def visible_length(html_text: str) -> int:
    """The length of an HTML message as Telegram counts it: tags out, entities as one."""
    plain = html.unescape(re.sub(r"<[^<>]*>", "", html_text))
    return _units(plain)


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str
    width: int  # visible UTF-16 units
    tag: str | None = None  # the tag's name, for a tag
    closing: bool = False


def _tokens(html_text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(html_text):
        raw = match.group()
        if len(raw) > 1 and raw[0] == "<":
            name = _TAG_NAME.match(raw)
            tokens.append(
                _Token(raw, 0, name.group(1).lower() if name else "", raw.startswith("</"))
            )
        elif len(raw) > 1:
            tokens.append(_Token(raw, _units(html.unescape(raw))))
        else:
            tokens.append(_Token(raw, _units(raw)))
    return tokens


def _after_tags(stack: list[_Token], tokens: Sequence[_Token]) -> list[_Token]:
    """The tags still open after `tokens`, given those open before them."""
    opened = list(stack)
    for token in tokens:
        if token.tag is None:
            continue
        if token.closing:
            for i in range(len(opened) - 1, -1, -1):
                if opened[i].tag == token.tag:
                    del opened[i:]
                    break
        else:
            opened.append(token)
    return opened


def _cut(tokens: Sequence[_Token], start: int, end: int) -> int:
    """Where to end a part that may hold tokens[start:end]: after a blank line, else a line
    break, else a space, in its later half (a third for a space); else at `end`."""
    best: dict[str, int] = {}
    for i in range(end - 1, start, -1):
        raw = tokens[i].raw
        if raw == "\n" and tokens[i - 1].raw == "\n":
            best.setdefault("paragraph", i + 1)
        elif raw == "\n":
            best.setdefault("line", i + 1)
        elif raw == " ":
            best.setdefault("space", i + 1)
        if "paragraph" in best:
            break
    half, third = start + (end - start) // 2, start + (end - start) // 3
    for kind, floor in (("paragraph", half), ("line", half), ("space", third)):
        if best.get(kind, 0) > floor:
            return best[kind]
    return end


def _parts(tokens: list[_Token], limit: int) -> Iterator[str]:
    stack: list[_Token] = []
    start = 0
    while start < len(tokens):
        used, end = 0, start
        while end < len(tokens) and used + tokens[end].width <= limit:
            used += tokens[end].width
            end += 1
        if end < len(tokens):
            end = _cut(tokens, start, end) if end > start else start + 1
        body = tokens[start:end]
        after = _after_tags(stack, body)
        text = "".join(t.raw for t in stack) + "".join(t.raw for t in body)
        text += "".join(f"</{t.tag}>" for t in reversed(after))
        if visible_length(text) > 0 and text.strip():
            yield _strip_edges(text)
        stack, start = after, end


def _strip_edges(text: str) -> str:
    """Blank lines at a cut say nothing: Telegram drops them anyway."""
    return text.strip("\n ")


def split_html(html_text: str, limit: int = MAX_TEXT) -> list[str]:
    """`html_text` as one message if it fits in `limit`, else as parts that each fit."""
    if limit < 2:
        raise ValueError(f"a message needs room for at least two units, not {limit}")
    if visible_length(html_text) <= limit:
        return [html_text]
    parts = [p for p in _parts(_tokens(html_text), limit) if visible_length(p) > 0]
    return parts or [html_text[:limit]]


def pack_blocks(blocks: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Blocks joined by blank lines into as few messages as fit (a block too long for one
    message is split by `split_html`)."""
    messages: list[str] = []
    size = 0
    for block in (part for b in blocks for part in split_html(b, limit)):
        width = visible_length(block)
        if messages and size + 2 + width <= limit:
            messages[-1] += "\n\n" + block
            size += 2 + width
        else:
            messages.append(block)
            size = width
    return messages


def page_ranges(
    widths: Sequence[int], room: int | Sequence[int], per_page: int | None = None
) -> list[range]:
    """Which items go on each page: as many as fit in `room` (a number, or one per page with
    the last repeated, for a first page that holds more or less), at most `per_page`, every
    item on some page, at least one page. An item wider than the room has a page of its own."""
    rooms = [room] if isinstance(room, int) else list(room)
    ranges: list[range] = []
    start, size = 0, 0
    for i, width in enumerate(widths):
        limit = rooms[min(len(ranges), len(rooms) - 1)]
        full = per_page is not None and i - start >= per_page
        if i > start and (size + width > limit or full):
            ranges.append(range(start, i))
            start, size = i, 0
        size += width
    ranges.append(range(start, len(widths)))
    return ranges


def pages(
    blocks: Sequence[str],
    *,
    head: str = "",
    foot: str = "",
    per_page: int | None = None,
    limit: int = MAX_TEXT - PAGE_ROOM,
) -> list[str]:
    """A browsed list as screens: `head`, as many blocks as fit (at most `per_page`), `foot`.
    Every page fits in `limit`; there is always at least one."""
    head, foot = (split_html(head, limit // 4)[0], split_html(foot, limit // 4)[0])
    room = limit - visible_length(head) - visible_length(foot) - 4
    parts = [part for b in blocks for part in split_html(b, room)]
    ranges = page_ranges([visible_length(p) + 2 for p in parts], room, per_page)
    return ["\n\n".join(p for p in (head, *(parts[i] for i in r), foot) if p) for r in ranges]

"""Fitting words into Telegram's room: the one way a label is shortened, and the one way a
set of labels is shortened so that two buttons never read alike."""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "\u2026"  # one character, so a shortened label keeps one more letter than "..."

# Punctuation a cut leaves dangling ("Report, ...", "Team (..."): dropped before the ellipsis.
_DANGLING = " \t\n,;:-\u2013\u2014("


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary with an ellipsis."""
    if limit < 1:
        raise ValueError(f"a label needs room for at least the ellipsis, not {limit}")
    if len(text) <= limit:
        return text
    room = limit - 1  # the ellipsis takes one
    cut = text[:room]
    if not text[room].isspace():  # the cut falls inside a word: end at the word before it
        spaces = [i for i, ch in enumerate(cut) if ch.isspace() and cut[:i].strip()]
        if spaces:
            cut = cut[: spaces[-1]]
    # A word too long for the room (or a name with no space) is cut where the room ends.
    return (cut.rstrip(_DANGLING) or cut) + ELLIPSIS


def short_labels(names: Sequence[str], limit: int) -> list[str]:
    """Names shortened to `limit` characters at a word boundary with "…"; where two would
    then read alike, each keeps its beginning and its end instead, which tell them apart."""
    heads = [shorten(n, limit) for n in names]
    alike = {h for h in heads if heads.count(h) > 1}
    return [_ends(n, limit) if h in alike else h for n, h in zip(names, heads, strict=True)]


def _ends(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    first = shorten(name, limit // 2)[:-1]
    room = limit - len(first) - 3  # " … "
    last = name[-room:] if room > 0 else ""
    if " " in last and not name[-room - 1 : -room].isspace():
        last = last[last.index(" ") + 1 :]  # start the end at a word
    return f"{first} {ELLIPSIS} {last}".strip()

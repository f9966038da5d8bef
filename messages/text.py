"""Fitting words into Telegram's room: the one way a label is shortened."""

from __future__ import annotations

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

"""Eligibility hints on a screen (PRODUCT §11): in full when the screen fits one message,
else the verdicts alone, else none; the screen is the same either way, and nothing is refused."""

from __future__ import annotations

from collections.abc import Callable

from messages.long_text import MAX_TEXT, visible_length

# How much of the hints a screen shows, most first (templates: eligibility/_hint.html).
DETAILS = ("full", "brief", "none")


def fitted(screen: Callable[[str], str]) -> str:
    """The screen rendered with as much of its hints as fits in one message."""
    for detail in DETAILS:
        text = screen(detail)
        if visible_length(text) <= MAX_TEXT:
            break
    return text

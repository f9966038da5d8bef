"""The one way to send a long text: blocks packed into as few messages as Telegram's limit
allows (PRODUCT §5: a long list is split into several messages, never cut)."""

from __future__ import annotations

from collections.abc import Sequence

MAX_TEXT = 4096  # Telegram's limit for one message's text (MessageLimit.MAX_TEXT_LENGTH)


def pack_blocks(blocks: Sequence[str], limit: int = MAX_TEXT) -> list[str]:
    """Blocks (each within `limit`) joined by blank lines into as few messages as fit."""
    messages: list[str] = []
    for block in blocks:
        if messages and len(messages[-1]) + 2 + len(block) <= limit:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages

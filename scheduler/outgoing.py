"""A push as the outbox rows that carry it: one row per message Telegram will take.

A text over Telegram's limit is several rows, in order, each under a key of its own (the
first keeps the push's key, so nothing enqueued before changes); a document whose caption
would be too long gets the text as messages first and goes after them without a caption.
Each part is a row of its own so that a crash or a retry repeats at most one part, never the
parts already delivered (PRODUCT §8).
"""

from __future__ import annotations

from datetime import datetime

from messages.long_text import MAX_CAPTION, split_html, visible_length
from storage.outbox import Outgoing


def outgoing(
    key: str,
    push_key: str,
    kind: str,
    chat_id: int,
    text: str,
    now: datetime,
    member_id: int | None = None,
    document_file_id: str | None = None,
) -> list[Outgoing]:
    """The rows of one message to one chat (see the module's docstring)."""
    if document_file_id is not None and visible_length(text) <= MAX_CAPTION:
        return [Outgoing(key, push_key, kind, chat_id, text, now, member_id, document_file_id)]
    parts = split_html(text) if text else []
    rows = [
        Outgoing(key if n == 0 else f"{key}#{n + 1}", push_key, kind, chat_id, part, now, member_id)
        for n, part in enumerate(parts)
    ]
    if document_file_id is not None:
        rows.append(
            Outgoing(
                f"{key}#file" if rows else key,
                push_key,
                kind,
                chat_id,
                "",
                now,
                member_id,
                document_file_id,
            )
        )
    return rows

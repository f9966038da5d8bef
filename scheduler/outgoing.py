"""A push as the outbox rows that carry it: one row per message Telegram will take.

A text over Telegram's limit is several rows, in order, each under a key of its own (the
first keeps the push's key, so nothing enqueued before changes); a document whose caption
would be too long gets the text as messages first and goes after them without a caption.
Each part is a row of its own so that a crash or a retry repeats at most one part, never the
parts already delivered (PRODUCT §8).

On Zalo a message is plain text within 2,000 characters (messages/plain.py) and never a file;
its rows are keyed `<key>:z<member id>`, apart from the member's Telegram rows, so a member on
both channels gets each push once on each (PRODUCT §12).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from messages import on_channel, render_text
from messages.long_text import MAX_CAPTION, split_html, visible_length
from messages.plain import plain_parts
from storage.models import Channel, Member
from storage.outbox import Outgoing
from storage.zalo_links import routes

MAX_ZALO_PARTS = 6  # Zalo messages of one push to one person, at most


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


def zalo_parts(text: str) -> list[str]:
    """A rendered push as the Zalo messages that carry it: its plain-text parts, at most
    MAX_ZALO_PARTS (a hostile size would be dozens of messages: the last one then says how
    many were left out and where the whole is)."""
    parts = plain_parts(text)
    if len(parts) <= MAX_ZALO_PARTS:
        return parts
    kept = parts[: MAX_ZALO_PARTS - 1]
    return [*kept, render_text("push/zalo_more", rest=len(parts) - len(kept))]


def zalo_outgoing(
    key: str, push_key: str, kind: str, member_id: int, address: str, text: str, now: datetime
) -> list[Outgoing]:
    """The rows of one rendered message to one Zalo chat: its plain-text parts."""
    return [
        Outgoing(
            key if n == 0 else f"{key}#{n + 1}",
            push_key,
            kind,
            member_id,
            part,
            now,
            member_id,
            channel=Channel.ZALO,
            address=address,
        )
        for n, part in enumerate(zalo_parts(text))
    ]


def member_outgoing(
    key: str,
    push_key: str,
    kind: str,
    member: Member,
    channel: Channel,
    text: str,
    now: datetime,
    document_file_id: str | None = None,
) -> list[Outgoing]:
    """The rows of one message to a member on one channel (`text` rendered for it), under
    `key` and the member's address on that channel."""
    if channel is Channel.ZALO:
        assert member.zalo_chat_id is not None
        at = f"{key}:z{member.id}"
        return zalo_outgoing(at, push_key, kind, member.id, member.zalo_chat_id, text, now)
    assert member.chat_id is not None
    at = f"{key}:{member.chat_id}"
    return outgoing(at, push_key, kind, member.chat_id, text, now, member.id, document_file_id)


def to_members(
    key: str,
    kind: str,
    members: Sequence[Member],
    render: Callable[[], str],
    now: datetime,
    *,
    zalo: bool,
) -> list[Outgoing]:
    """One message to each of these members on each of their channels (storage.zalo_links
    .routes), `render` called once per channel, on that channel (messages.on_channel)."""
    texts: dict[Channel, str] = {}
    rows: list[Outgoing] = []
    for member in members:
        for channel in routes(member, zalo):
            if channel not in texts:
                with on_channel(channel):
                    texts[channel] = render()
            rows += member_outgoing(key, key, kind, member, channel, texts[channel], now)
    return rows

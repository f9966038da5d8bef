"""The persistent outbox: enqueue once per key, claim safely, mark each step as it happens
(answers that arrive together marked sent in one statement, `mark_sent_many`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    DateTime,
    Interval,
    Table,
    bindparam,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import locks
from storage.db import is_postgres, upsert_insert
from storage.models import Channel, Member, OutboxMessage, OutboxStatus, PushTo, SendBudget

_KEYS_PER_QUERY = 500  # push keys looked up per statement: SQLite caps its variables


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to enqueue: to whom, what, when, under which unique key."""

    key: str
    push_key: str
    kind: str
    chat_id: int
    text: str
    not_before: datetime
    member_id: int | None = None
    document_file_id: str | None = None
    failed: bool = False  # a push that could not be prepared: recorded, never sent
    channel: Channel = Channel.TELEGRAM
    address: str | None = None  # on Zalo, the chat (chat_id is then the member's id)


async def enqueue(session: AsyncSession, messages: Sequence[Outgoing], now: datetime) -> int:
    """Insert the messages whose key is new; an existing key is left alone. Returns how many."""
    if not messages:
        return 0
    rows = [
        {
            "key": m.key,
            "push_key": m.push_key,
            "kind": m.kind,
            "chat_id": m.chat_id,
            "member_id": m.member_id,
            "text": m.text,
            "document_file_id": m.document_file_id,
            "channel": m.channel,
            "address": m.address,
            "status": OutboxStatus.FAILED if m.failed else OutboxStatus.PENDING,
            "not_before": m.not_before,
            "created_at": now,
            "attempts": 0,
            "timeouts": 0,
            "resent_after_crash": 0,
        }
        for m in messages
    ]
    inserted = 0
    for start in range(0, len(rows), 500):  # SQLite caps the variables of one statement
        statement = upsert_insert(session, OutboxMessage).values(rows[start : start + 500])
        result = await session.execute(
            statement.on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)
        )
        inserted += len(result.all())
    return inserted


async def enqueued_push_keys(session: AsyncSession, keys: Iterable[str]) -> frozenset[str]:
    """Which of these push keys the outbox holds (index lookups, not a scan of the outbox)."""
    ordered = sorted(keys)
    found: set[str] = set()
    for start in range(0, len(ordered), _KEYS_PER_QUERY):
        chunk = ordered[start : start + _KEYS_PER_QUERY]
        found.update(
            await session.scalars(
                select(OutboxMessage.push_key).where(OutboxMessage.push_key.in_(chunk)).distinct()
            )
        )
    return frozenset(found)


async def take_due_lock(session: AsyncSession) -> bool:
    """PostgreSQL: whether this transaction becomes the one instance that computes what is
    due and enqueues it (the lock ends with the transaction); False if another holds it."""
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(locks.DUE))))


async def claim(
    session: AsyncSession, now: datetime, limit: int, channel: Channel = Channel.TELEGRAM
) -> list[OutboxMessage]:
    """Take up to `limit` due messages of the channel and mark them "sending" (the caller
    commits at once).

    PostgreSQL: FOR UPDATE SKIP LOCKED, so two workers never take the same row. SQLite: the
    caller's write transaction starts with BEGIN IMMEDIATE, which serialises claims.
    """
    # One statement: the due rows chosen (and locked) in a materialised CTE, updated, and
    # returned whole. Half the time of loading them, changing them and flushing the changes.
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.not_before <= now,
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        due = due.with_for_update(skip_locked=True)
    # Materialised, so that the locked choice is made once, never re-evaluated by the plan.
    chosen = due.cte("due").prefix_with("MATERIALIZED", dialect="postgresql")
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(chosen.c.id)))
        .values(
            status=OutboxStatus.SENDING,
            sending_since=now,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage)
    )
    rows = list(await session.scalars(statement, execution_options={"synchronize_session": False}))
    rows.sort(key=lambda row: (row.not_before, row.id))  # RETURNING keeps no order
    return rows


async def reserve_send_time(
    session: AsyncSession, seconds: float, budget_row: int = 1
) -> tuple[datetime, datetime]:
    """PostgreSQL: take the next `seconds` of sending time shared by every instance (of the
    channel whose budget is the row `budget_row`).

    Returns (start, now): the span [start, start + seconds) is this caller's alone, and `now`
    is the database clock when it was taken (callers compare the two, not their own clock).
    The one row moves forward atomically, so no two callers ever get overlapping spans.
    """
    now = func.statement_timestamp(type_=DateTime(timezone=True))
    span = literal(timedelta(seconds=seconds), Interval())
    statement = (
        pg_insert(SendBudget)
        .values(id=budget_row, next_at=now + span)
        .on_conflict_do_update(
            index_elements=[SendBudget.id],
            set_={"next_at": func.greatest(SendBudget.next_at, now) + span},
        )
        .returning(SendBudget.next_at, now)
    )
    end, database_now = (await session.execute(statement)).one()
    return end - timedelta(seconds=seconds), database_now


# One per message sent (25 a second per instance at full pace): built once, and a plain
# Core UPDATE (the row is not loaded in the session, so there is nothing to synchronise).
_OUTBOX = cast(Table, OutboxMessage.__table__)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("when"),
        telegram_message_id=bindparam("answer_id"),
    )
)


async def mark_sent(
    session: AsyncSession, message_id: int, now: datetime, telegram_message_id: int | None
) -> None:
    """The answer came: sent."""
    await session.execute(
        _MARK_SENT, {"row_id": message_id, "when": now, "answer_id": telegram_message_id}
    )


async def mark_sent_many(
    session: AsyncSession, answers: Sequence[tuple[int, int | None]], now: datetime
) -> None:
    """The answers came: each (row id, Telegram message id) sent, in one statement."""
    # An executemany of the one prepared UPDATE: faster than UPDATE ... FROM (VALUES ...) on
    # both databases (a new statement to compile per group size), and than unnest() on
    # PostgreSQL for groups of a few dozen rows.
    if answers:
        await session.execute(
            _MARK_SENT,
            [{"row_id": row_id, "when": now, "answer_id": answer} for row_id, answer in answers],
        )


async def retry_later(
    session: AsyncSession,
    message_id: int,
    not_before: datetime,
    error: str,
    now: datetime,
    *,
    timed_out: bool = False,
) -> None:
    """Back to pending until `not_before`, remembering the error (and a read timeout)."""
    row = await session.get_one(OutboxMessage, message_id)
    row.status = OutboxStatus.PENDING
    row.not_before = not_before
    row.last_error = error[:500]
    row.first_error_at = row.first_error_at or now
    row.sending_since = None
    if timed_out:
        row.timeouts += 1


async def mark_final(
    session: AsyncSession, message_id: int, status: OutboxStatus, error: str | None
) -> OutboxMessage:
    """A final state other than sent: uncertain, blocked or failed."""
    row = await session.get_one(OutboxMessage, message_id)
    row.status = status
    row.last_error = None if error is None else error[:500]
    row.sending_since = None
    return row


async def bring_forward(
    session: AsyncSession, now: datetime, channel: Channel = Channel.TELEGRAM
) -> int:
    """The channel's API answers again after an outage: its rows waiting out a backoff for a
    refused connection or a 5xx become due now. A 429's pause and a timeout's single retry
    keep their own time (their errors start with RetryAfter and TimedOut)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.not_before > now,
            OutboxMessage.first_error_at.is_not(None),
            ~OutboxMessage.last_error.startswith("RetryAfter"),
            ~OutboxMessage.last_error.startswith("TimedOut"),
        )
        .values(not_before=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def recover_abandoned(
    session: AsyncSession,
    now: datetime,
    lease: timedelta,
    channel: Channel | None = Channel.TELEGRAM,
) -> int:
    """The channel's rows (every channel's, for None) left "sending" longer than the lease
    (a crash) go back to pending, counted."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            true() if channel is None else OutboxMessage.channel == channel,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.sending_since < now - lease,
        )
        .values(
            status=OutboxStatus.PENDING,
            sending_since=None,
            resent_after_crash=OutboxMessage.resent_after_crash + 1,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def deactivate_member(
    session: AsyncSession,
    member_id: int,
    channel: Channel = Channel.TELEGRAM,
    now: datetime | None = None,
) -> Member | None:
    """The person blocked the bot on this channel: pushes go to their other channel if they
    have one that works, else nowhere until they join again (/start, or the code on Zalo)."""
    member = await session.get(Member, member_id)
    if member is None:
        return None
    if channel is Channel.ZALO:
        member.zalo_left_at = now or member.zalo_left_at
        if member.chat_id is not None:
            member.push_to = PushTo.TELEGRAM
        else:
            member.active = False
    elif member.zalo_chat_id is not None and member.zalo_left_at is None:
        member.push_to = PushTo.ZALO
    else:
        member.active = False
    return member


async def release_unsent(session: AsyncSession, message_ids: Sequence[int]) -> None:
    """Claimed rows a worker will not send go back to pending (never tried: no attempt)."""
    for message_id in message_ids:
        row = await session.get(OutboxMessage, message_id)
        if row is not None and row.status is OutboxStatus.SENDING:
            row.status = OutboxStatus.PENDING
            row.sending_since = None
            row.attempts = max(0, row.attempts - 1)


async def count_pending(session: AsyncSession, message_ids: Collection[int]) -> int:
    """How many of these rows are pending (put back, and not taken again yet)."""
    count = await session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == OutboxStatus.PENDING)
    )
    return int(count or 0)


async def next_due(session: AsyncSession, channel: Channel = Channel.TELEGRAM) -> datetime | None:
    """When the channel's earliest pending message may go, or None when nothing waits."""
    return await session.scalar(
        select(func.min(OutboxMessage.not_before)).where(
            OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.PENDING
        )
    )


# Which state of its parts a recipient is counted in: the first that any part is in.
_WORST = (
    OutboxStatus.PENDING,
    OutboxStatus.SENDING,
    OutboxStatus.BLOCKED,
    OutboxStatus.FAILED,
    OutboxStatus.UNCERTAIN,
    OutboxStatus.SENT,
)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """How the messages of one push ended, for the office: in all and per channel, and who
    did not get them (each as its channel and its chat: on Zalo, the member's id)."""

    push_key: str
    counts: dict[OutboxStatus, int]
    by_channel: dict[Channel, dict[OutboxStatus, int]]
    blocked: tuple[tuple[Channel, int], ...]
    uncertain: tuple[tuple[Channel, int], ...]
    failed: tuple[tuple[Channel, int], ...]
    resent_after_crash: int

    @property
    def done(self) -> bool:
        """Nothing pending or being sent any more."""
        return not (self.counts.get(OutboxStatus.PENDING) or self.counts.get(OutboxStatus.SENDING))

    @property
    def blocked_chats(self) -> tuple[int, ...]:
        """The Telegram chats that blocked the bot."""
        return _telegram(self.blocked)

    @property
    def uncertain_chats(self) -> tuple[int, ...]:
        """The Telegram chats whose message may not have arrived."""
        return _telegram(self.uncertain)

    @property
    def failed_chats(self) -> tuple[int, ...]:
        """The Telegram chats whose message failed."""
        return _telegram(self.failed)


def _telegram(found: tuple[tuple[Channel, int], ...]) -> tuple[int, ...]:
    return tuple(chat for channel, chat in found if channel is Channel.TELEGRAM)


async def delivery_report(
    session: AsyncSession, push_key: str, *, prefix: bool = False
) -> DeliveryReport:
    """Counts by state and the recipients that did not get the message: of one push, or with
    prefix set, of every push whose key starts with `push_key:` (one announcement's units)."""
    match = (
        OutboxMessage.push_key.startswith(f"{push_key}:", autoescape=True)
        if prefix
        else OutboxMessage.push_key == push_key
    )
    found = (
        await session.execute(
            select(
                OutboxMessage.push_key,
                OutboxMessage.channel,
                OutboxMessage.chat_id,
                OutboxMessage.status,
                OutboxMessage.resent_after_crash,
            ).where(match)
        )
    ).all()
    # A long message is several rows (its parts): a recipient counts once, as its worst part.
    per_chat: dict[tuple[str, Channel, int], OutboxStatus] = {}
    for push, channel, chat, status, _ in found:
        held = per_chat.get((push, channel, chat))
        if held is None or _WORST.index(status) < _WORST.index(held):
            per_chat[(push, channel, chat)] = status
    counts: dict[OutboxStatus, int] = {}
    by_channel: dict[Channel, dict[OutboxStatus, int]] = {}
    for (_, channel, _), status in per_chat.items():
        counts[status] = counts.get(status, 0) + 1
        of_channel = by_channel.setdefault(channel, {})
        of_channel[status] = of_channel.get(status, 0) + 1

    def who(status: OutboxStatus) -> tuple[tuple[Channel, int], ...]:
        return tuple(sorted((c, chat) for (_, c, chat), s in per_chat.items() if s is status))

    return DeliveryReport(
        push_key,
        counts,
        by_channel,
        who(OutboxStatus.BLOCKED),
        who(OutboxStatus.UNCERTAIN),
        who(OutboxStatus.FAILED),
        sum(r for *_, r in found),
    )

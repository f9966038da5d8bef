"""The worker's "sent" marks committed in groups (issue 18 item 4): fewer commits than answers,
every row sent with its message id, a failing group commit retried and, when it keeps
failing, its rows left "sending" for lease recovery to resend and count (PRODUCT §8)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.emulator import BotApiEmulator
from scheduler.delivery import DeliveryWorker, Limits
from scheduler.delivery.records import DeliveryStats, Recorder
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.outbox import Outgoing, delivery_report, enqueue
from tests.support.bot_api import telegram_bot

PUSH = "groups"
FAST = Limits(global_per_second=400, retry_backoff=(0.2, 0.5), timeout_pause=0.3)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the records take from the Bot API's answer."""

    message_id: int


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """An emulator without flood control."""
    async with BotApiEmulator(flood_control=False) as emulator:
        yield emulator


def outgoing(chat_id: int) -> Outgoing:
    """One row of the push to a chat."""
    return Outgoing(
        key=f"{PUSH}:{chat_id}",
        push_key=PUSH,
        kind="announcement",
        chat_id=chat_id,
        text=f"Announcement for {chat_id}",
        not_before=datetime.now(UTC),
    )


async def claimed_rows(db: Database, count: int) -> list[OutboxMessage]:
    """Enqueue `count` rows and claim them all ("sending"), as the worker does."""
    now = datetime.now(UTC)
    async with db.write() as session:
        await enqueue(session, [outgoing(7_000 + i) for i in range(count)], now)
    async with db.write() as session:
        rows = await outbox.claim(session, datetime.now(UTC), count)
    assert len(rows) == count
    return rows


def recorder_for(db: Database, **groups: Any) -> Recorder:
    """The worker's Recorder, on its own."""
    return Recorder(db, FAST, lambda: datetime.now(UTC), DeliveryStats(), None, 10.0, **groups)


@contextmanager
def counted_commits(db: Database) -> Iterator[list[int]]:
    """Count the transactions committed on the database's engine while inside."""
    commits: list[int] = []

    def on_commit(_connection: Any) -> None:
        commits.append(1)

    event.listen(db.engine.sync_engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(db.engine.sync_engine, "commit", on_commit)


async def states(db: Database) -> dict[int, tuple[OutboxStatus, int | None]]:
    """Each row's status and Telegram message id, by row id."""
    async with db.read() as session:
        found = await session.execute(
            select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.telegram_message_id)
        )
        return {row_id: (status, answer) for row_id, status, answer in found.all()}


def failing(times: int | None, calls: list[int]) -> Any:
    """A mark_sent_many whose first `times` calls (None: every call) fail like a lost server."""
    real = outbox.mark_sent_many

    async def mark(session: AsyncSession, answers: Any, now: datetime) -> None:
        calls.append(len(answers))
        if times is None or len(calls) <= times:
            raise OperationalError("UPDATE outbox", None, ConnectionError("server closed"))
        await real(session, answers, now)

    return mark


# --------------------------------------------------------------------------- the groups


async def test_a_burst_of_answers_is_committed_in_fewer_transactions(db: Database) -> None:
    """40 answers at once, groups of 16: three commits (16, 16, 8), every row sent with its
    message id, counted once each."""
    rows = await claimed_rows(db, 40)
    recorder = recorder_for(db, group_rows=16)
    with counted_commits(db) as commits:
        due = await asyncio.gather(*(recorder.sent(row, Answer(row.id + 500)) for row in rows))

    assert len(commits) < len(rows)
    assert len(commits) == recorder.sent_groups.commits == 3
    assert due == [0] * len(rows)  # no outage: nothing brought forward
    assert recorder.stats.sent == len(rows)
    assert await states(db) == {row.id: (OutboxStatus.SENT, row.id + 500) for row in rows}


async def test_a_lone_answer_is_committed_after_the_window(lite_db: Database) -> None:
    """One answer and nothing after it: its group closes on the window, not on its size."""
    (row,) = await claimed_rows(lite_db, 1)
    recorder = recorder_for(lite_db, group_rows=100, group_window=0.005)
    await recorder.sent(row, Answer(42))

    assert await states(lite_db) == {row.id: (OutboxStatus.SENT, 42)}
    assert recorder.sent_groups.commits == 1 and recorder.stats.sent == 1


async def test_a_cancelled_caller_does_not_cancel_its_group(lite_db: Database) -> None:
    """The task of one answer cancelled while its group waits: the others' commit goes on,
    and the cancelled one's mark (already in the group) is committed with them."""
    rows = await claimed_rows(lite_db, 5)
    recorder = recorder_for(lite_db, group_window=0.05)
    tasks = [asyncio.create_task(recorder.sent(row, Answer(row.id))) for row in rows]
    await asyncio.sleep(0)  # a yield: each task's first step puts its mark in the open group
    assert recorder.sent_groups.waiting == 5
    tasks[0].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(done[0], asyncio.CancelledError) and done[1:] == [0] * 4
    assert await states(lite_db) == {row.id: (OutboxStatus.SENT, row.id) for row in rows}


async def test_a_failed_group_commit_is_retried(
    lite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first commit of a group fails (the database went away): it is made again, and
    every row ends sent, counted once."""
    rows = await claimed_rows(lite_db, 10)
    calls: list[int] = []
    monkeypatch.setattr(outbox, "mark_sent_many", failing(1, calls))
    recorder = recorder_for(lite_db)
    await asyncio.gather(*(recorder.sent(row, Answer(row.id)) for row in rows))

    assert calls == [10, 10]  # one group, written twice
    assert recorder.stats.sent == 10
    assert await states(lite_db) == {row.id: (OutboxStatus.SENT, row.id) for row in rows}


async def test_a_group_that_cannot_be_committed_stays_sending_and_is_resent(
    db: Database, emu: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt to commit the marks fails: the worker logs it, the rows stay "sending",
    and after the lease another worker sends them again: the duplicate §8 allows, counted in
    resent_after_crash and in the worker's recovered rows."""
    chats = [emu.user(8_000 + i, f"User {i}").id for i in range(6)]
    async with db.write() as session:
        await enqueue(session, [outgoing(chat) for chat in chats], datetime.now(UTC))
    calls: list[int] = []
    monkeypatch.setattr(outbox, "mark_sent_many", failing(None, calls))
    async with telegram_bot(emu) as bot:
        first = DeliveryWorker(db, bot, limits=FAST)
        await first.drain(timeout=30)
        assert first.stats.sent == 0 and len(calls) >= 3  # each group tried three times
        assert {status for status, _ in (await states(db)).values()} == {OutboxStatus.SENDING}

        monkeypatch.undo()
        later = datetime.now(UTC) + timedelta(seconds=FAST.lease + 1)
        second = DeliveryWorker(db, bot, limits=FAST, clock=lambda: later)
        await second.drain(timeout=30)

    assert Counter(m.chat_id for m in emu.messages()) == dict.fromkeys(chats, 2)
    assert second.stats.recovered == len(chats) and second.stats.sent == len(chats)
    async with db.read() as session:
        report = await delivery_report(session, PUSH)
    assert report.counts == {OutboxStatus.SENT: len(chats)}
    assert report.resent_after_crash == len(chats)


async def test_no_group_is_lost_when_the_worker_stops(
    lite_db: Database, emu: BotApiEmulator
) -> None:
    """Stopped right after its requests left, the worker returns only once every answered
    row's group is committed: nothing answered is left "sending"."""
    chats = [emu.user(9_000 + i, f"User {i}").id for i in range(30)]
    async with lite_db.write() as session:
        await enqueue(session, [outgoing(chat) for chat in chats], datetime.now(UTC))
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=replace(FAST, global_per_second=2_000))
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await emu.wait_until(lambda: len(emu.messages()) == len(chats), timeout=30)
        stop.set()
        await task

    assert worker.stats.sent == len(chats)
    found = await states(lite_db)
    assert {status for status, _ in found.values()} == {OutboxStatus.SENT}
    assert all(answer is not None for _, answer in found.values())


async def test_two_workers_on_postgresql_share_the_load_and_send_each_row_once(
    database_url: str, emu: BotApiEmulator
) -> None:
    """Two instances with their own groups drain the same rows: each row sent once, by one
    of them, its message id recorded; both take part."""
    if database_url.startswith("sqlite"):
        pytest.skip("two instances at once is the PostgreSQL set-up")
    first_db, second_db = Database(database_url), Database(database_url)
    await first_db.migrate()
    chats = [emu.user(10_000 + i, f"User {i}").id for i in range(400)]
    async with first_db.write() as session:
        await enqueue(session, [outgoing(chat) for chat in chats], datetime.now(UTC))
    limits = replace(FAST, global_per_second=2_000, batch=40)
    try:
        async with telegram_bot(emu) as first_bot, telegram_bot(emu) as second_bot:
            first = DeliveryWorker(first_db, first_bot, limits=limits)
            second = DeliveryWorker(second_db, second_bot, limits=limits)
            await asyncio.gather(first.drain(timeout=60), second.drain(timeout=60))
        found = await states(first_db)
        async with first_db.read() as session:
            report = await delivery_report(session, PUSH)
    finally:
        await first_db.dispose()
        await second_db.dispose()

    assert Counter(m.chat_id for m in emu.messages()) == dict.fromkeys(chats, 1)
    assert first.stats.sent + second.stats.sent == len(chats)
    assert first.stats.sent and second.stats.sent  # both took part
    assert {status for status, _ in found.values()} == {OutboxStatus.SENT}
    assert all(answer is not None for _, answer in found.values())
    assert report.resent_after_crash == 0
    print(f"\nsplit: {first.stats.sent} + {second.stats.sent}")


# --------------------------------------------------------------------------- the claim


async def test_the_claim_takes_the_earliest_due_rows_in_order(db: Database) -> None:
    """One statement claims the earliest due rows, in due order, "sending", one attempt more;
    rows not due yet and rows already taken are left alone."""
    now = datetime.now(UTC)
    async with db.write() as session:
        await enqueue(
            session,
            [
                replace(outgoing(7_000 + i), not_before=now - timedelta(seconds=(i * 7) % 30))
                for i in range(30)
            ]
            + [replace(outgoing(6_000), not_before=now + timedelta(hours=1))],
            now,
        )
    async with db.write() as session:
        first = await outbox.claim(session, now, 10)
    async with db.write() as session:
        rest = await outbox.claim(session, now, 100)

    order = [(row.not_before, row.id) for row in first + rest]
    assert order == sorted(order)
    assert len(first) == 10 and len(rest) == 20  # the row due in an hour stays
    assert {(row.status, row.attempts, row.sending_since) for row in first + rest} == {
        (OutboxStatus.SENDING, 1, now)
    }
    async with db.read() as session:
        pending = list(
            await session.scalars(
                select(OutboxMessage.chat_id).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        )
    assert pending == [6_000]


async def test_two_claims_at_once_on_postgresql_never_share_a_row(database_url: str) -> None:
    """A claim whose rows are still locked by an open transaction is skipped by the next."""
    if database_url.startswith("sqlite"):
        pytest.skip("claims at once is the PostgreSQL set-up (SQLite serialises them)")
    db = Database(database_url)
    await db.migrate()
    try:
        now = datetime.now(UTC)
        async with db.write() as session:
            await enqueue(session, [outgoing(7_000 + i) for i in range(25)], now)
        later = now + timedelta(seconds=1)
        async with db.write() as first_session:
            first = await outbox.claim(first_session, later, 10)
            async with db.write() as second_session:  # another connection, while locked
                second = await outbox.claim(second_session, later, 100)
    finally:
        await db.dispose()

    assert len(first) == 10 and len(second) == 15
    assert not {row.id for row in first} & {row.id for row in second}

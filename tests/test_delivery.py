"""The outbox worker against the Bot API emulator: pacing, 429, retries, timeouts, crashes."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.emulator import ApiRequest, BotApiEmulator
from scheduler.delivery import DeliveryWorker, Limits, retry_delay
from storage import outbox
from storage.db import Database
from storage.models import Member, Organization, OutboxMessage, OutboxStatus, Role, Unit, UnitKind
from storage.outbox import DeliveryReport, Outgoing, delivery_report, enqueue
from tests.support.bot_api import telegram_bot
from tests.support.waiting import eventually

PUSH = "bc1"
# Logic tests run fast: a high global rate, short backoffs; the real caps are tested once.
FAST = Limits(global_per_second=200, retry_backoff=(0.2, 0.5), timeout_pause=0.3)
SEND_METHODS = {"sendMessage", "sendDocument"}


# --------------------------------------------------------------------------- helpers


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """An emulator without flood control (tests of pacing build their own)."""
    async with BotApiEmulator(flood_control=False) as emulator:
        yield emulator


def users(emu: BotApiEmulator, chats: Iterable[int]) -> list[int]:
    """Create the emulator users (so the chats exist); their chat ids."""
    return [emu.user(chat, f"User {chat}").id for chat in chats]


def outgoing(chat_id: int, n: int = 0, **fields: object) -> Outgoing:
    """One broadcast row to a chat."""
    message = Outgoing(
        key=f"{PUSH}:{chat_id}:{n}",
        push_key=PUSH,
        kind="announcement",
        chat_id=chat_id,
        text=f"Announcement <b>{n}</b> for {chat_id}",
        not_before=datetime.now(UTC),
    )
    return replace(message, **fields)  # type: ignore[arg-type]


async def add_rows(db: Database, messages: list[Outgoing]) -> None:
    """Enqueue in one write transaction."""
    async with db.write() as session:
        await enqueue(session, messages, datetime.now(UTC))


async def report(db: Database) -> DeliveryReport:
    """The delivery report of the broadcast."""
    async with db.read() as session:
        return await delivery_report(session, PUSH)


async def rows(db: Database) -> dict[int, OutboxMessage]:
    """Every outbox row by chat id (one row per chat in these tests)."""
    async with db.read() as session:
        return {r.chat_id: r for r in await session.scalars(select(OutboxMessage))}


def sends(emu: BotApiEmulator) -> list[ApiRequest]:
    """Send requests that reached the emulator, in arrival order."""
    return [r for r in emu.requests if r.method in SEND_METHODS]


def delivered(emu: BotApiEmulator) -> Counter[int]:
    """How many messages each chat received."""
    return Counter(m.chat_id for m in emu.messages())


# --------------------------------------------------------------------------- pure


@given(st.integers(min_value=-3, max_value=50))
def test_retry_delay_follows_the_backoff_then_repeats_the_last(attempts: int) -> None:
    limits = Limits()
    delay = retry_delay(limits, attempts)
    assert delay in limits.retry_backoff
    if attempts >= len(limits.retry_backoff):
        assert delay == limits.retry_backoff[-1]
    elif attempts >= 1:
        assert delay == limits.retry_backoff[attempts - 1]


# --------------------------------------------------------------------------- real caps


async def test_broadcast_to_500_under_flood_control(lite_db: Database) -> None:
    """Real caps: everyone once, the blocked reported, no 429 of our own making, rate ~cap."""
    limits = Limits(retry_backoff=(0.2, 0.5))
    blocked_calls: list[tuple[int, int | None]] = []

    async def on_blocked(chat_id: int, member_id: int | None) -> None:
        blocked_calls.append((chat_id, member_id))

    async with BotApiEmulator() as emu, telegram_bot(emu) as bot:
        chats = users(emu, range(10_000, 10_500))
        blocked = chats[::50]
        for chat in blocked:
            emu.user(chat).block()
        emu.fail_next("sendMessage", status=502, times=15)
        await add_rows(lite_db, [outgoing(chat) for chat in chats])

        worker = DeliveryWorker(lite_db, bot, limits=limits, on_blocked=on_blocked)
        await worker.drain(timeout=60, include_retries=True)

        counts = delivered(emu)
        assert {chat: counts[chat] for chat in chats if chat not in blocked} == {
            chat: 1 for chat in chats if chat not in blocked
        }
        assert not any(counts[chat] for chat in blocked)
        result = await report(lite_db)
        assert result.blocked_chats == tuple(blocked)
        assert result.counts == {OutboxStatus.SENT: 490, OutboxStatus.BLOCKED: 10}
        assert sorted(blocked_calls) == [(chat, None) for chat in blocked]
        assert emu.flood_count == 0 and worker.stats.rate_limited == 0
        assert worker.stats.retried == 15 and worker.stats.sent == 490

        times = [r.time for r in sends(emu)]
        assert len(times) == 515 == worker.stats.requests
        # Pacing is judged by Telegram's own rule, as the emulator enforces it: no 429 above.
        # The rate is a figure to read (bench/ measures it), not a timed assertion.
        steady = times[25:-25]
        rate = (len(steady) - 1) / (steady[-1] - steady[0])
        overall = (len(times) - 1) / (times[-1] - times[0])
        print(f"\nachieved {rate:.2f}/s steady, {overall:.2f}/s overall, cap 25/s, 429s: 0")


# --------------------------------------------------------------------------- 429


async def test_429_pauses_every_request_for_retry_after(
    lite_db: Database, emu: BotApiEmulator
) -> None:
    """While others are in flight and finish, nothing leaves before the 429's 2 s are over."""
    # 10/s: the 429 is answered long before the next slot, so the request log shows the gate.
    limits = replace(FAST, global_per_second=10)
    chats = users(emu, range(1, 9))
    emu.fail_next("sendMessage", status=200, delay=1.5, times=3)  # three stay in flight
    emu.fail_next("sendMessage", status=429, retry_after=2)
    await add_rows(lite_db, [outgoing(chat) for chat in chats])

    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=limits)
        await worker.drain(timeout=20, include_retries=True)

    requests = sends(emu)
    limited = next(r for r in requests if r.status == 429)
    later = [r for r in requests if r.time > limited.time]
    # Those in flight were answered during the pause, after the 429.
    assert [r.status for r in requests[:3]] == [200, 200, 200]
    assert len(later) == 5  # the other four rows, and the limited one again
    assert min(r.time for r in later) >= limited.time + 2.0 - 0.005
    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert worker.stats.rate_limited == 1
    assert (await report(lite_db)).counts == {OutboxStatus.SENT: 8}


async def test_several_429s_extend_the_pause_to_the_latest(
    lite_db: Database, emu: BotApiEmulator
) -> None:
    """A later, longer 429 extends the gate; an earlier, shorter one never shortens it."""
    limits = replace(FAST, global_per_second=10)
    chats = users(emu, range(1, 5))
    emu.fail_next("sendMessage", status=429, retry_after=2, delay=0.5)  # answered at +0.5 s
    emu.fail_next("sendMessage", status=429, retry_after=1)  # answered at once
    await add_rows(lite_db, [outgoing(chat) for chat in chats])

    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=limits)
        await worker.drain(timeout=20, include_retries=True)

    requests = sends(emu)
    first, second = requests[0], requests[1]
    assert (first.status, second.status) == (429, 429)
    assert min(r.time for r in requests[2:]) >= first.time + 0.5 + 2.0 - 0.005
    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert worker.stats.rate_limited == 2


# --------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize(
    ("late_answers", "status"), [(1, OutboxStatus.SENT), (2, OutboxStatus.UNCERTAIN)]
)
async def test_read_timeout_is_retried_once_then_uncertain(
    db: Database, emu: BotApiEmulator, late_answers: int, status: OutboxStatus
) -> None:
    """A delivered message answered too late is sent at most twice, never three times."""
    (chat,) = users(emu, [7])
    emu.fail_next("sendMessage", status=200, delay=1.0, times=late_answers)
    await add_rows(db, [outgoing(chat)])

    async with telegram_bot(emu, read_timeout=0.5) as bot:
        worker = DeliveryWorker(db, bot, limits=FAST)
        await worker.drain(timeout=20, include_retries=True)
    # No wait for the late answers: the emulator keeps a message before it delays the answer,
    # and its stop lets the answers still in hand finish.

    assert delivered(emu)[chat] == 2  # the documented duplicate hazard, and no more
    assert len(sends(emu)) == 2
    row = (await rows(db))[chat]
    assert row.status is status
    assert row.timeouts == 1
    result = await report(db)
    assert result.uncertain_chats == ((chat,) if status is OutboxStatus.UNCERTAIN else ())
    assert worker.stats.timeouts == late_answers


async def test_pool_timeout_is_safe_to_retry(lite_db: Database, emu: BotApiEmulator) -> None:
    """A timeout before the request left (pool full) is a plain retry, never uncertain."""
    chats = users(emu, [1, 2, 3])
    emu.fail_next("sendMessage", status=200, delay=0.8)  # holds the only connection
    await add_rows(lite_db, [outgoing(chat) for chat in chats])

    async with telegram_bot(emu, connection_pool_size=1, pool_timeout=0.05) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=replace(FAST, retry_backoff=(0.2,)))
        await worker.drain(timeout=20, include_retries=True)

    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert worker.stats.timeouts == 0 and worker.stats.retried >= 2
    assert {r.status for r in (await rows(lite_db)).values()} == {OutboxStatus.SENT}


# --------------------------------------------------------------------------- network errors


async def test_refused_connection_is_retried_until_the_server_is_back(
    db: Database, emu: BotApiEmulator
) -> None:
    """Refused connections back off and retry; nothing is lost or sent twice."""
    chats = users(emu, range(1, 6))
    limits = replace(FAST, retry_backoff=(0.1, 0.2))
    async with telegram_bot(emu) as bot:
        await emu.stop()  # the port is closed now: connections are refused
        await add_rows(db, [outgoing(chat) for chat in chats])
        worker = DeliveryWorker(db, bot, limits=limits)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await eventually(lambda: worker.stats.retried >= 10)
        assert not emu.messages()
        await emu.start()
        await eventually(lambda: worker.stats.sent == 5)
        stop.set()
        await task

    assert delivered(emu) == dict.fromkeys(chats, 1)
    for row in (await rows(db)).values():
        assert row.status is OutboxStatus.SENT
        assert row.attempts >= 2 and row.first_error_at is not None
        assert "NetworkError" in (row.last_error or "")


async def test_gives_up_after_give_up_after(db: Database, emu: BotApiEmulator) -> None:
    """A server that never comes back: FAILED after give_up_after, and reported."""
    chats = users(emu, [1, 2])
    # Attempts to one chat are a per_chat_interval apart at least: shortened here.
    limits = replace(FAST, retry_backoff=(0.2, 0.3), give_up_after=1.0, per_chat_interval=0.05)
    async with telegram_bot(emu) as bot:
        await emu.stop()
        await add_rows(db, [outgoing(chat) for chat in chats])
        worker = DeliveryWorker(db, bot, limits=limits)
        await worker.drain(timeout=20, include_retries=True)

    result = await report(db)
    assert result.failed_chats == tuple(chats)
    assert result.done and worker.stats.failed == 2
    for row in (await rows(db)).values():
        assert row.attempts >= 3
        assert "NetworkError" in (row.last_error or "")


async def test_dropped_connection_and_5xx_are_retried(db: Database, emu: BotApiEmulator) -> None:
    """An answerless drop and a 503 go back with backoff and are delivered once."""
    chats = users(emu, [1, 2, 3])
    emu.fail_next("sendMessage", status=0, times=2)
    emu.fail_next("sendMessage", status=503)
    await add_rows(db, [outgoing(chat) for chat in chats])
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(db, bot, limits=FAST)
        await worker.drain(timeout=20, include_retries=True)

    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert worker.stats.retried == 3 and worker.stats.sent == 3


async def test_when_the_api_answers_again_rows_in_long_backoff_go_at_once(
    lite_db: Database, emu: BotApiEmulator
) -> None:
    """After an outage the backoff may have reached minutes; the first answer brings every row
    waiting on it forward, while a 429's pause keeps its own time."""
    first, second, paced = users(emu, [1, 2, 3])
    emu.fail_next("sendMessage", status=502)
    await add_rows(lite_db, [outgoing(first)])
    slow = replace(FAST, retry_backoff=(600.0,))  # ten minutes: the drain below would time out
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=slow)
        await worker.drain(timeout=5)  # the 502: pending, due in ten minutes
        assert delivered(emu) == {}
        async with lite_db.write() as session:  # a row waiting out a 429's pause, untouched
            await enqueue(
                session,
                [outgoing(paced, 1, not_before=datetime.now(UTC) + timedelta(minutes=5))],
                datetime.now(UTC),
            )
            row = (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == paced))
            ).one()
            row.first_error_at, row.last_error = datetime.now(UTC), "RetryAfter: Flood control"
        await add_rows(lite_db, [outgoing(second, 2)])
        worker.wake()  # as the tick does after enqueueing
        await worker.drain(timeout=5)  # the second answers: the first goes at once too
    assert delivered(emu) == {first: 1, second: 1}
    assert (await rows(lite_db))[paced].status is OutboxStatus.PENDING


async def test_unexpected_error_is_logged_and_retried(
    lite_db: Database, emu: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """An error of no known kind (here a 409) never crashes the loop nor loses the row."""
    (chat,) = users(emu, [1])
    emu.fail_next("sendMessage", status=409)
    await add_rows(lite_db, [outgoing(chat)])
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=FAST)
        await worker.drain(timeout=20, include_retries=True)

    assert delivered(emu) == {chat: 1}
    assert worker.stats.retried == 1
    assert any(r.levelno == logging.ERROR for r in caplog.records)


# --------------------------------------------------------------------------- final states


async def test_chat_not_found_is_failed(db: Database, emu: BotApiEmulator) -> None:
    """A 400 is final: FAILED with Telegram's description."""
    await add_rows(db, [outgoing(424242)])  # a chat the emulator never saw
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(db, bot, limits=FAST)
        await worker.drain(timeout=20, include_retries=True)

    row = (await rows(db))[424242]
    assert row.status is OutboxStatus.FAILED
    assert "chat not found" in (row.last_error or "").lower()
    assert (await report(db)).failed_chats == (424242,)
    assert worker.stats.requests == 1 and worker.stats.failed == 1


async def test_blocked_member_is_deactivated_and_reported(
    db: Database, emu: BotApiEmulator
) -> None:
    """A 403: BLOCKED, the member inactive, the caller told once."""
    (chat,) = users(emu, [55])
    emu.user(chat).block()
    async with db.write() as session:
        org = Organization(code="VP", name="Office")
        session.add(org)
        await session.flush()
        unit = Unit(code="VP", name="Office", kind=UnitKind.PHONG, organization_id=org.id)
        session.add(unit)
        await session.flush()
        member = Member(telegram_user_id=chat, chat_id=chat, unit_id=unit.id, role=Role.FOCAL)
        session.add(member)
        await session.flush()
        member_id = member.id
    await add_rows(db, [outgoing(chat, member_id=member_id)])
    calls: list[tuple[int, int | None]] = []

    async def on_blocked(chat_id: int, member: int | None) -> None:
        calls.append((chat_id, member))

    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(db, bot, limits=FAST, on_blocked=on_blocked)
        await worker.drain(timeout=20)

    assert calls == [(chat, member_id)]
    assert (await rows(db))[chat].status is OutboxStatus.BLOCKED
    async with db.read() as session:
        assert (await session.get_one(Member, member_id)).active is False


# --------------------------------------------------------------------------- shape of sends


async def test_document_and_text_rows(lite_db: Database, emu: BotApiEmulator) -> None:
    """A document goes with its caption; a text without link previews, both in HTML."""
    (chat,) = users(emu, [9])
    async with telegram_bot(emu) as bot:
        uploaded = await bot.send_document(chat, b"%PDF-1.4 plan", filename="plan.pdf")
        assert uploaded.document is not None
        file_id = uploaded.document.file_id
        await add_rows(
            lite_db,
            [
                outgoing(chat, 1, document_file_id=file_id, text="The <b>plan</b>"),
                outgoing(chat, 2, text='See <a href="https://example.org">this</a>'),
            ],
        )
        worker = DeliveryWorker(lite_db, bot, limits=FAST)
        await worker.drain(timeout=20)

    document, text = emu.messages(chat)[1:]
    assert document.document is not None and document.document["file_id"] == file_id
    assert (document.text, document.html, document.parse_mode) == (
        "The plan",
        "The <b>plan</b>",
        "HTML",
    )
    assert text.text == "See this" and text.parse_mode == "HTML"
    request = next(r for r in emu.requests if r.method == "sendMessage")
    preview = request.params["link_preview_options"]
    assert (json.loads(preview) if isinstance(preview, str) else preview)["is_disabled"] is True


async def test_per_chat_interval_holds_one_chat_not_the_others(
    lite_db: Database, emu: BotApiEmulator
) -> None:
    """Three rows to one chat go a second apart; everyone else's go meanwhile."""
    busy, *others = users(emu, range(1, 32))
    # The busy chat's rows are claimed first: they must not hold the others back.
    await add_rows(lite_db, [outgoing(busy, n) for n in range(3)])
    await add_rows(lite_db, [outgoing(chat) for chat in others])
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=FAST)
        await worker.drain(timeout=20)

    busy_times = [r.time for r in sends(emu) if r.chat_id == busy]
    other_times = [r.time for r in sends(emu) if r.chat_id != busy]
    assert len(busy_times) == 3 and len(other_times) == 30
    assert all(b - a >= 0.99 for a, b in itertools.pairwise(busy_times))
    assert max(other_times) < busy_times[1]
    assert delivered(emu)[busy] == 3


async def test_wake_makes_a_running_worker_look_now(
    lite_db: Database, emu: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run() sleeps until the next due row; wake() after an enqueue sends at once."""
    chats = users(emu, [1, 2])
    looked = asyncio.Event()
    next_due = outbox.next_due

    async def next_due_seen(session: AsyncSession, *channel: Any) -> datetime | None:
        # The worker asks when the next row is due once it has found none to claim.
        try:
            return await next_due(session, *channel)
        finally:
            looked.set()

    monkeypatch.setattr(outbox, "next_due", next_due_seen)
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(lite_db, bot, limits=FAST)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await asyncio.wait_for(looked.wait(), 5)  # idle now, polling only every few seconds
        await add_rows(lite_db, [outgoing(chat) for chat in chats])
        started = time.monotonic()
        worker.wake()
        await eventually(lambda: worker.stats.sent == 2, timeout=5)
        assert time.monotonic() - started < 1.0
        stop.set()
        await task
    assert delivered(emu) == dict.fromkeys(chats, 1)


# --------------------------------------------------------------------------- crashes, concurrency


async def test_crash_leftovers_are_resent_only_after_the_lease(
    db: Database, emu: BotApiEmulator
) -> None:
    """Rows left "sending" past the lease go again, counted; younger ones are not touched."""
    chats = users(emu, [1, 2, 3, 4])
    await add_rows(db, [outgoing(chat) for chat in chats])
    now = datetime.now(UTC)
    async with db.write() as session:
        for row in await session.scalars(select(OutboxMessage)):
            row.status = OutboxStatus.SENDING
            row.attempts = 1
            age = 300 if row.chat_id in (1, 2) else 10  # the lease is 120 s
            row.sending_since = now - timedelta(seconds=age)

    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(db, bot, limits=FAST)
        await worker.drain(timeout=20)

    assert delivered(emu) == {1: 1, 2: 1}
    assert worker.stats.recovered == 2
    result = await report(db)
    assert result.resent_after_crash == 2
    assert result.counts == {OutboxStatus.SENT: 2, OutboxStatus.SENDING: 2}


async def test_two_workers_on_postgresql_send_each_row_once(
    database_url: str, emu: BotApiEmulator
) -> None:
    """FOR UPDATE SKIP LOCKED: two instances draining the same rows never share one."""
    if database_url.startswith("sqlite"):
        pytest.skip("two instances at once is the PostgreSQL set-up")
    first_db, second_db = Database(database_url), Database(database_url)
    await first_db.migrate()
    chats = users(emu, range(1, 301))
    await add_rows(first_db, [outgoing(chat) for chat in chats])
    limits = replace(FAST, batch=40)
    try:
        async with telegram_bot(emu) as first_bot, telegram_bot(emu) as second_bot:
            first = DeliveryWorker(first_db, first_bot, limits=limits)
            second = DeliveryWorker(second_db, second_bot, limits=limits)
            await asyncio.gather(first.drain(timeout=30), second.drain(timeout=30))
    finally:
        await first_db.dispose()
        await second_db.dispose()

    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert len(sends(emu)) == 300
    assert first.stats.sent + second.stats.sent == 300
    assert first.stats.sent and second.stats.sent  # both took part
    print(f"\nsplit: {first.stats.sent} + {second.stats.sent}")


async def test_worker_and_concurrent_writers_never_lock(
    db: Database, emu: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Handlers keep writing while the worker drains: no "database is locked", all sent once."""
    chats = users(emu, range(1, 601))
    await add_rows(db, [outgoing(chat) for chat in chats[:300]])
    limits = replace(FAST, global_per_second=400)
    async with telegram_bot(emu) as bot:
        worker = DeliveryWorker(db, bot, limits=limits)
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        for start in range(300, 600, 10):  # small transactions, like handlers
            sent_so_far = len(sends(emu))
            await add_rows(db, [outgoing(chat) for chat in chats[start : start + 10]])
            worker.wake()
            # The next write only once the worker has sent again: the two interleave.
            await emu.wait_until(lambda n=sent_so_far: len(sends(emu)) > n)
        await eventually(lambda: worker.stats.sent == 600, timeout=30)
        stop.set()
        await task

    assert delivered(emu) == dict.fromkeys(chats, 1)
    assert (await report(db)).counts == {OutboxStatus.SENT: 600}
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not problems, [r.getMessage() for r in problems]

"""One send budget for replies and pushes (PRODUCT §8): the budget's own rules, then through
the emulator with Telegram's flood control: a department's burst of /start all answered,
a 429 on a reply waited out, replies ahead of a broadcast, one chat's slow upload not
holding up another chat."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.emulator import BotApiEmulator
from bot.emulator.sandbox import Sandbox
from bot.request_guard import REPLY_ATTEMPTS, RequestGuard
from scheduler.delivery.budget import Budget, SendBudget
from scheduler.delivery.pacing import Pacer, pacer_for
from scheduler.delivery.rules import Limits
from storage.db import Database
from storage.models import Role
from tests.support.clock import Clock
from tests.support.databases import load_files
from tests.support.paths import EXAMPLES
from tests.support.people import issue_invite, join
from tests.support.uploads import PDF

# ---- the budget alone --------------------------------------------------------------------


def test_a_chat_gets_its_burst_then_one_a_second() -> None:
    budget = SendBudget(Pacer(0.04), Budget(chat_interval=1.0, chat_burst=5))
    delays = [budget.chat_delay(7) for _ in range(8)]
    assert delays[:5] == [0.0] * 5
    # Then one per interval, reserved in turn (within the few microseconds the calls took).
    assert [round(d) for d in delays[5:]] == [1, 2, 3]
    assert budget.chat_delay(8) == 0.0  # another chat has its own budget


async def test_replies_are_served_before_bulk_and_slots_are_spaced() -> None:
    budget = SendBudget(Pacer(0.02))
    order: list[str] = []
    stamps: list[float] = []

    async def take(name: str, bulk: bool) -> None:
        await budget.take_global(bulk=bulk)
        order.append(name)
        stamps.append(time.monotonic())

    bulk = [asyncio.create_task(take(f"push{i}", True)) for i in range(5)]
    await asyncio.sleep(0)  # the pushes queue first
    replies = [asyncio.create_task(take(f"reply{i}", False)) for i in range(3)]
    await asyncio.gather(*bulk, *replies)
    # At most the slot being given when they came went to a push: every reply before the rest.
    assert [o for o in order if o.startswith("reply")] == ["reply0", "reply1", "reply2"]
    assert max(order.index(f"reply{i}") for i in range(3)) <= 3
    assert budget.granted == [3, 5]
    # Eight slots, each at its instant: never sooner than the spacing allows in all.
    assert stamps[-1] - stamps[0] >= 7 * 0.02 - 0.005


async def test_a_429_closes_the_gate_for_everyone() -> None:
    budget = SendBudget(Pacer(0.001))
    budget.pause(0.3)
    assert budget.gate_seconds > 0.2
    started = time.monotonic()
    await budget.take(5)
    assert time.monotonic() - started >= 0.29
    assert budget.paused == 1


async def test_a_waiter_that_gives_up_leaves_no_trace() -> None:
    budget = SendBudget(Pacer(0.05))
    await budget.take_global(bulk=False)  # the first slot is now; the next one 50 ms later
    waiting = asyncio.create_task(budget.take_global(bulk=True))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(budget.take_global(bulk=False), 5)  # the next one still comes
    assert budget.granted[1] == 0


async def test_instances_share_one_budget(db: Database) -> None:
    """Two instances' budgets on one PostgreSQL database (the shared row): forty replies
    between them never go faster than the one rate."""
    if db.is_sqlite:
        pytest.skip("SQLite runs one instance by design; its budget is in memory")
    interval = 0.02
    budgets = [SendBudget(pacer_for(db, Limits(global_per_second=1 / interval))) for _ in "ab"]
    stamps: list[float] = []

    async def reply(budget: SendBudget) -> None:
        await budget.take_global(bulk=False)
        stamps.append(time.monotonic())

    await asyncio.gather(*(reply(b) for b in budgets for _ in range(20)))
    stamps.sort()
    assert len(stamps) == 40
    assert stamps[-1] - stamps[0] >= 39 * interval - 0.005


# ---- through the emulator, with Telegram's own flood control ------------------------------


def _telegram_like() -> BotApiEmulator:
    """Telegram's limits as the emulator enforces them by default: ~30/s in all, 1/s a chat
    after a burst."""
    return BotApiEmulator()


@pytest.fixture
async def strict(database_url: str, tmp_path: Path, clock: Clock) -> Sandbox:
    box = Sandbox(
        database_url=database_url,
        files_dir=tmp_path / "files",
        clock=clock,
        emulator=_telegram_like(),
    )
    await box.db.migrate()
    await load_files(box.db, EXAMPLES / "units-lang-son.yaml")
    async with box:
        yield box  # type: ignore[misc]


async def test_a_department_pressing_start_at_once_is_welcomed_to_the_last(
    strict: Sandbox,
) -> None:
    """151 people send /start CODE within a moment (after `invite --all`): every one is
    welcomed, and the Bot API never answered 429."""
    emulator = strict.emulator
    codes = [await issue_invite(strict.db, "HCTP", Role.FOCAL, strict.clock()) for _ in range(151)]
    users = [emulator.user(9000 + i, f"Người {i}") for i in range(151)]
    await asyncio.gather(*(u.send(f"/start {code}") for u, code in zip(users, codes, strict=True)))
    await emulator.wait_until(lambda: all(u.messages for u in users), timeout=90)
    assert all("Xin chào" in u.messages[0].text for u in users)
    assert emulator.flood_count == 0
    assert strict.app is not None and strict.app.bot_data.budget is not None
    assert strict.app.bot_data.budget.granted[0] >= 151


async def test_a_reply_refused_with_429_is_sent_after_the_wait(strict: Sandbox) -> None:
    person = await join(strict, 5001, "Minh", "HCTP", Role.FOCAL)
    strict.emulator.fail_next("sendMessage", status=429, retry_after=1)
    reply = await person.say("/trogiup")
    assert reply.messages and "/hoso" in reply.text  # the help, not an error
    assert strict.emulator.requests[-1].method == "sendMessage"
    assert sum(r.method == "sendMessage" and r.status == 429 for r in strict.emulator.requests) == 1
    # The next message is answered as usual.
    assert "/hoso" in (await person.say("/trogiup")).text


async def test_slow_uploads_do_not_hold_up_another_chat(strict: Sandbox) -> None:
    """Eight focal points' files are still downloading (as many as the shared update slots):
    another person's command is answered meanwhile, and a second file of one of them waits
    for its own chat's turn without taking a slot either."""
    uploaders = [await join(strict, 5001 + i, f"Người {i}", "HCTP", Role.FOCAL) for i in range(8)]
    other = await join(strict, 5100, "Hà", "TGPL", Role.FOCAL)
    emulator = strict.emulator
    emulator.downloads_held = asyncio.Event()
    uploads = [
        asyncio.create_task(u.send_document(PDF, "bao-cao.pdf", "application/pdf"))
        for u in uploaders
    ]
    await emulator.wait_until(lambda: len(emulator.downloads) == 8, timeout=20)
    second = asyncio.create_task(uploaders[0].user.send_document(PDF, "lan-2.pdf"))
    assert "/hoso" in (await other.say("/trogiup")).text
    assert not any(u.done() for u in uploads)  # every download was still held meanwhile
    await second
    emulator.downloads_held.set()
    answers = await asyncio.gather(*uploads)
    assert all(a.messages for a in answers)


async def test_a_reply_still_refused_after_its_tries_is_logged_and_the_next_one_answered(
    strict: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    person = await join(strict, 5001, "Minh", "HCTP", Role.FOCAL)
    # Four tries of the reply, then the error handler's own message: all refused.
    strict.emulator.fail_next("sendMessage", status=429, retry_after=1, times=REPLY_ATTEMPTS + 1)
    update_id = await person.user.send("/trogiup")
    await strict.processed(update_id, timeout=30)
    failed = [r for r in caplog.records if r.getMessage().startswith(f"update {update_id} failed")]
    assert failed and "RetryAfter" in failed[0].getMessage()
    assert strict.app is not None
    guard = strict.app.bot.rate_limiter
    assert isinstance(guard, RequestGuard) and guard.replies_given_up == 1
    assert "/hoso" in (await person.say("/trogiup")).text

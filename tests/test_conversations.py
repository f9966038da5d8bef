"""Conversation steps and drafts kept in the database (bot.conversations), through the
emulator on SQLite and PostgreSQL: a restart mid-flow loses nothing, an idle step times out,
an unreadable stored step is dropped without a crash, and a finished flow keeps no row.
(Two instances taking turns on one conversation: tests/test_scaleout.py.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.emulator.sandbox import Person, Reply, Sandbox
from messages import render_text
from storage.models import ConversationState, Role
from tests.support.people import join
from tests.support.registrations import saved

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PEOPLE = "Nguyễn Văn An; Trưởng phòng; LĐTT\nTrần Thị Bình; Chuyên viên; LĐTT"


async def open_rows(box: Sandbox) -> int:
    async with box.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ConversationState)) or 0)


async def until_rows(box: Sandbox, count: int) -> None:
    """The chat's flow is stored before the person's action returns: check it."""
    assert await open_rows(box) == count


async def list_typed(season: Sandbox, user_id: int) -> tuple[Person, Reply]:
    """A focal point of HCTP in /dangky with the list of people typed, at the summary (its
    step stored): the person, and the summary with its buttons."""
    minh = await join(season, user_id, "Minh", "HCTP", Role.FOCAL)
    step = await minh.say("/dangky")
    await minh.press(step.last, "Không đăng ký")
    summary = await minh.say(PEOPLE)
    assert summary.last.button_texts()[0] == "✅ Xác nhận"
    await until_rows(season, 1)
    return minh, summary


async def until_written_again(box: Sandbox) -> None:
    """The chat's row was written within the last minute (stored before the reply returned)."""
    async with box.db.read() as session:
        written = await session.scalar(select(ConversationState.updated_at))
    assert written is not None and datetime.now(UTC) - written < timedelta(minutes=1), written


async def test_a_restart_mid_registration_loses_nothing(season: Sandbox) -> None:
    minh, summary = await list_typed(season, 2101)

    await season.restart_bot()  # a deployment between two taps
    done = await minh.press(summary.last, "✅ Xác nhận")
    assert done.alert is None
    registration = await saved(season, "HCTP")
    assert registration is not None and len(registration.individuals) == 2
    await until_rows(season, 0)  # the flow is over: nothing kept for the chat


async def test_a_step_left_idle_past_the_timeout_is_dropped(season: Sandbox) -> None:
    minh, summary = await list_typed(season, 2102)
    async with season.db.write() as session:  # 31 minutes without a word (the limit is 30)
        stale = datetime.now(UTC) - timedelta(minutes=31)
        await session.execute(update(ConversationState).values(updated_at=stale))
    await season.restart_bot()

    late = await minh.press(summary.last, "✅ Xác nhận")
    assert late.alert == render_text("alerts/stale_button")
    assert await saved(season, "HCTP") is None
    again = await minh.say("/dangky")  # a fresh start works as ever
    assert again.last.button_texts()
    await until_rows(season, 1)


async def test_idle_time_counts_from_the_last_update_not_the_last_change(
    season: Sandbox,
) -> None:
    """A person who keeps answering without moving the flow on is not idle."""
    minh, summary = await list_typed(season, 2105)
    for minutes in (25, 25):  # twice 25 minutes: 50 since the step last changed
        async with season.db.write() as session:
            stale = datetime.now(UTC) - timedelta(minutes=minutes)
            await session.execute(update(ConversationState).values(updated_at=stale))
        if season.db.is_sqlite:
            await season.restart_bot()  # SQLite reads the row once after a start
        wrong = await minh.send_photo(PNG)  # not what this step asks for: nothing changes
        assert wrong.messages
        await until_written_again(season)

    if season.db.is_sqlite:
        await season.restart_bot()
    done = await minh.press(summary.last, "✅ Xác nhận")
    assert done.alert is None
    assert await saved(season, "HCTP") is not None


async def test_an_unreadable_stored_step_is_dropped(
    season: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    minh, summary = await list_typed(season, 2103)
    async with season.db.write() as session:  # e.g. written by an older version of the bot
        await session.execute(update(ConversationState).values(data=b"not a pickle"))
    await season.restart_bot()

    with caplog.at_level(logging.WARNING, logger="bot.conversations"):
        late = await minh.press(summary.last, "✅ Xác nhận")
    assert late.alert == render_text("alerts/stale_button")
    assert "stored conversation unreadable" in caplog.text
    assert "Traceback" not in caplog.text
    assert await saved(season, "HCTP") is None
    await until_rows(season, 0)


async def test_commands_outside_any_flow_keep_no_row(season: Sandbox) -> None:
    minh = await join(season, 2104, "Minh", "HCTP", Role.FOCAL)
    for text in ("/hoso", "/lich", "xin chào", "/huy"):
        await minh.say(text)
    assert await open_rows(season) == 0
    step = await minh.say("/dangky")
    await until_rows(season, 1)
    cancelled = await minh.say("/huy")
    assert cancelled.text and step.messages
    await until_rows(season, 0)

"""What keeping conversation steps in the database (bot.conversations) adds to each update
of a private chat: for a chat outside any conversation (most updates), and for a chat whose
step changes with every update (each is written)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from telegram import Chat, Message, Update, User

from bot.app import build_application
from bot.config import Settings
from bot.conversations import SharedConversations
from handlers import flows_of
from handlers.flow import current_slot
from handlers.registration import Draft, State
from storage.conversations import StoredFlow
from storage.db import Database
from storage.models import ConversationState

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"


@dataclass
class StepCost:
    """Milliseconds added per update."""

    idle_ms: float
    moving_ms: float
    stored_chats: int  # rows left by the "moving" run: one per chat mid-conversation


def _update(update_id: int, chat: int) -> Update:
    return Update(
        update_id,
        message=Message(
            update_id,
            datetime.now(UTC),
            Chat(chat, "private"),
            from_user=User(chat, "Bench", False),
            text="/hoso",
        ),
    )


async def step_cost(url: str, updates: int, chats: int = 50) -> StepCost:
    """Time SharedConversations.handle around handlers that do nothing (idle) or move the
    chat's /dangky to another step (moving); the cost of building the updates is taken off."""
    db = Database(url)
    await db.migrate()
    app = build_application(Settings(bot_token=TOKEN, database_url=url), db)  # type: ignore[arg-type]
    flows = flows_of(app)
    shared = SharedConversations(flows, db)
    steps = [State.CAMPAIGN, State.TITLE, State.PEOPLE]

    async def idle() -> None:
        return None

    async def moving(chat: int, step: int) -> None:
        slot = current_slot()  # as a step of /dangky would move it
        assert slot is not None
        slot.stored = StoredFlow("dangky", steps[step % 3].name)
        slot.draft, slot.decoded = Draft(unit_id=1, campaign_id=step), True

    async def timed(move: bool) -> float:
        started = time.perf_counter()
        for i in range(updates):
            chat = 700_000 + i % chats
            update = _update(i, chat)
            await shared.handle(update, moving(chat, i) if move else idle())
        spent = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(updates):
            _update(i, 700_000 + i % chats)
        return (spent - (time.perf_counter() - started)) / updates * 1000

    await timed(False)  # warm the pool and the statement caches
    idle_ms, moving_ms = await timed(False), await timed(True)
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(ConversationState))
    await db.dispose()
    return StepCost(idle_ms, moving_ms, int(stored or 0))

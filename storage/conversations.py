"""The stored step and draft of each chat's open conversation (bot.conversations uses it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import locks
from storage.db import upsert_insert
from storage.models import ConversationState

# Run for every update of a private chat on PostgreSQL: built once.
_LOCK = select(
    func.pg_advisory_xact_lock(
        literal(locks.CHAT_CLASS, Integer()), bindparam("key", type_=Integer())
    )
)
_LOAD = select(ConversationState.data, ConversationState.updated_at).where(
    ConversationState.chat_id == bindparam("chat")
)


async def lock_chat(session: AsyncSession, chat_id: int) -> None:
    """PostgreSQL: hold the chat's lock until the session's transaction ends; an instance
    handling an update of the same chat waits for it."""
    await session.execute(_LOCK, {"key": locks.int4(chat_id)})


async def load_conversation(session: AsyncSession, chat_id: int) -> tuple[bytes, datetime] | None:
    """The stored data of the chat's open conversations and when it was written, or None."""
    row = (await session.execute(_LOAD, {"chat": chat_id})).first()
    return None if row is None else (row.data, row.updated_at)


async def save_conversation(
    session: AsyncSession, chat_id: int, data: bytes | None, now: datetime
) -> None:
    """Store the chat's data, or forget it (None: no conversation is open any more)."""
    if data is None:
        await session.execute(delete(ConversationState).where(ConversationState.chat_id == chat_id))
        return
    statement = upsert_insert(session, ConversationState).values(
        chat_id=chat_id, data=data, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConversationState.chat_id],
            set_={"data": data, "updated_at": now},
        )
    )

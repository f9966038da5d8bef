"""Small key-value facts learnt at run time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import AppState

BOT_USERNAME = "bot_username"


async def get_state(session: AsyncSession, key: str) -> str | None:
    """The stored value, or None."""
    row = await session.get(AppState, key)
    return None if row is None else row.value


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    """Store a value, replacing the old one. One statement, so instances starting together
    (PostgreSQL) do not both insert the key and fail on the primary key."""
    statement = upsert_insert(session, AppState).values(key=key, value=value)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[AppState.key], set_={"value": value})
    )

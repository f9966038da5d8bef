"""Small key-value facts learnt at run time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AppState

BOT_USERNAME = "bot_username"


async def get_state(session: AsyncSession, key: str) -> str | None:
    """The stored value, or None."""
    row = await session.get(AppState, key)
    return None if row is None else row.value


async def set_state(session: AsyncSession, key: str, value: str) -> None:
    """Store a value, replacing the old one."""
    row = await session.get(AppState, key)
    if row is None:
        session.add(AppState(key=key, value=value))
    else:
        row.value = value

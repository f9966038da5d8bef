"""Claiming update ids, so an update delivered twice (webhook retries) is handled once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import upsert_insert
from storage.models import ProcessedUpdate


async def claim_update(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """True the first time an update id is seen, False for every redelivery."""
    result = await session.execute(
        upsert_insert(session, ProcessedUpdate)
        .values(update_id=update_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    return result.first() is not None


async def forget_old_updates(session: AsyncSession, now: datetime, keep: timedelta) -> int:
    """Drop ids older than `keep` (Telegram stops redelivering long before)."""
    result = await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.received_at < now - keep)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

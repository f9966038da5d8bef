"""Downloads in progress (PRODUCT §8 "Uploads"): each is recorded, in its own commit, before
the bot asks Telegram for the file, and forgotten once the file is kept or refused. What a
crash leaves behind is found after the restart: each sender is told, through the outbox, to
send the file again, and the record goes, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PendingDownload
from storage.outbox import Outgoing, enqueue

KIND = "download_lost"  # the outbox kind of the "send it again" message


async def begin_download(
    session: AsyncSession,
    *,
    chat_id: int,
    telegram_user_id: int,
    file_name: str,
    telegram_file_id: str,
    now: datetime,
) -> int:
    """Record a download about to start; its id, to forget it by."""
    row = PendingDownload(
        chat_id=chat_id,
        telegram_user_id=telegram_user_id,
        file_name=file_name[:255],
        telegram_file_id=telegram_file_id[:255],
        started_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


async def end_download(session: AsyncSession, download_id: int) -> None:
    """The download is over (the file kept or refused): nothing to tell after a crash."""
    await session.execute(delete(PendingDownload).where(PendingDownload.id == download_id))


async def tell_lost_downloads(
    session: AsyncSession,
    *,
    before: datetime | None,
    now: datetime,
    notice: Callable[[str, datetime], str],
) -> int:
    """Every download begun before `before` (None: every one) was cut off, the caller knowing
    that no download lasts that long, or that no other process runs: one outbox message each
    to its chat (`notice(file name, start)`), the row deleted; how many.

    The delete claims the rows, so two instances at it at once tell each sender once."""
    statement = delete(PendingDownload)
    if before is not None:
        statement = statement.where(PendingDownload.started_at < before)
    lost = (
        await session.execute(
            statement.returning(
                PendingDownload.id,
                PendingDownload.chat_id,
                PendingDownload.file_name,
                PendingDownload.started_at,
            )
        )
    ).all()
    messages = []
    for download_id, chat_id, file_name, started_at in lost:
        # The start too: SQLite may give a deleted row's id to the next one.
        key = f"{KIND}:{download_id}:{started_at.isoformat()}"
        messages.append(Outgoing(key, key, KIND, chat_id, notice(file_name, started_at), now))
    await enqueue(session, messages, now)
    return len(lost)

"""Scheduled announcements as the scheduler reads them: those to send, those owing a report."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement

# Beyond this, a send time is no instant the scheduler plans for (a row written before input
# was bounded, e.g. 31/12/9999): it is left out of the schedule, never a date overflow.
LATEST_SEND = datetime(9000, 1, 1, tzinfo=UTC)


async def announcements_since(session: AsyncSession, since: datetime | None) -> list[Announcement]:
    """Announcements to send at or after `since` (every one, when None), up to LATEST_SEND."""
    scheduled = select(Announcement).where(Announcement.send_at < LATEST_SEND)
    if since is not None:
        scheduled = scheduled.where(Announcement.send_at >= since)
    return list(await session.scalars(scheduled))


async def unreported_announcements(session: AsyncSession, now: datetime) -> list[Announcement]:
    """Announcements sent by now whose office has asked for, and not had, a delivery report."""
    return list(
        await session.scalars(
            select(Announcement).where(
                Announcement.report_chat_id.is_not(None),
                Announcement.reported_at.is_(None),
                Announcement.send_at <= now,
            )
        )
    )

"""Scheduled announcements as the scheduler reads them: those to send, those owing a report."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announcement, OutboxMessage

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


async def _started(session: AsyncSession, announcement_id: int) -> bool:
    """Whether any message of the announcement is in the outbox (being sent, or sent)."""
    prefix = f"announcement:{announcement_id}:"
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.push_key.startswith(prefix, autoescape=True))
        .limit(1)
    )
    return found is not None


async def waiting_announcements(
    session: AsyncSession, organization_id: int, now: datetime
) -> list[Announcement]:
    """The organisation's announcements scheduled and not begun yet (the office may cancel
    them), soonest first; a send time left out of the schedule (see LATEST_SEND) included."""
    candidates = await session.scalars(
        select(Announcement)
        .where(
            Announcement.organization_id == organization_id,
            Announcement.send_at > now - timedelta(days=1),
        )
        .order_by(Announcement.send_at, Announcement.id)
    )
    return [a for a in candidates if not await _started(session, a.id)]


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What the office is told of an announcement it cancelled."""

    id: int
    send_at: datetime
    text: str


async def cancel_announcement(
    session: AsyncSession, organization_id: int, announcement_id: int, now: datetime
) -> Cancelled | None:
    """Cancel a scheduled announcement of the organisation that has not begun: it is deleted.
    None when it is not the organisation's, not waiting, or gone: the caller answers all three
    alike."""
    waiting = {a.id: a for a in await waiting_announcements(session, organization_id, now)}
    announcement = waiting.get(announcement_id)
    if announcement is None:
        return None
    cancelled = Cancelled(announcement.id, announcement.send_at, announcement.text)
    await session.delete(announcement)
    await session.flush()
    return cancelled


async def existing_announcements(session: AsyncSession, ids: Collection[int]) -> set[int]:
    """Which of these announcements still exist (one cancelled meanwhile is not sent)."""
    if not ids:
        return set()
    return set(await session.scalars(select(Announcement.id).where(Announcement.id.in_(ids))))

"""A broadcast set up in the database: focal points to receive it, an announcement to all
turned into outbox rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from scheduler.tick import Scheduler
from storage.db import Database
from storage.models import Announcement, Audience, Member, Role, Unit
from storage.units import reporting
from tests.support.clock import TZ


async def add_focal_points(db: Database, first_id: int, count: int, now: datetime) -> list[int]:
    """Focal points bound directly in the database, spread over the units that report (the
    leadership and the councils have none); their chat ids."""
    async with db.write() as session:
        units = list(await session.scalars(select(Unit).where(reporting()).order_by(Unit.id)))
        for i in range(count):
            session.add(
                Member(
                    telegram_user_id=first_id + i,
                    chat_id=first_id + i,
                    unit_id=units[i % len(units)].id,
                    role=Role.FOCAL,
                    full_name=f"Người {i}",
                    active=True,
                    joined_at=now,
                )
            )
    return list(range(first_id, first_id + count))


async def announce_to_all(
    db: Database, text: str, now: datetime, *, zalo: bool = False
) -> tuple[str, int]:
    """An announcement to every unit, due at `now`, turned into outbox rows by a tick at
    `now` (as an instance's tick would, with its Zalo channel if `zalo`); its push key and how
    many rows it made.

    Tests whose bot then runs on the real clock pass an `in_office_hours` instant: in the
    quiet hours the bot's own tick would hold the announcement back until 07:00.
    """
    async with db.write() as session:
        announcement = Announcement(
            organization_id=1,
            text=text,
            audience=Audience.ALL,
            unit_ids=[],
            send_at=now,
            created_by=1,
            created_at=now,
        )
        session.add(announcement)
        await session.flush()
        push = f"announcement:{announcement.id}"
    return push, await Scheduler(db, TZ, lambda: now, zalo=zalo).tick()

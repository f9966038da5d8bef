"""Recipients who blocked the bot, found by the outbox worker and not yet told to the office.

The worker records a blocked recipient on the row (status BLOCKED) and deactivates the
member; the office hears of it once per scheduler tick, all of them in one message per
body, instead of one message per recipient (PRODUCT §8). A broadcast's own delivery report
already names its blocked recipients, so its rows are left out here. What was told is kept
as a watermark: the highest outbox row id told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Channel, Member, OutboxMessage, OutboxStatus, Unit
from storage.state import get_state, set_state

TOLD_UPTO = "blocked_told_upto"
# Kinds whose blocked recipients are named elsewhere (a broadcast's report) or that are the
# office's own notices.
NOT_TOLD = ("announcement", "report", "blocked", "push_failed")


@dataclass(frozen=True, slots=True)
class Blocked:
    """One recipient found blocked on a row."""

    row_id: int
    chat_id: int  # on Zalo, the member's id (as on the outbox row)
    kind: str
    name: str | None  # the member's name, if the row had a member
    unit: str | None
    unit_code: str | None
    organization_id: int | None
    channel: Channel = Channel.TELEGRAM
    member_id: int | None = None


async def untold_blocked(session: AsyncSession, since: datetime) -> list[Blocked]:
    """Rows found blocked since the last report (and created after `since`), oldest first."""
    upto = int(await get_state(session, TOLD_UPTO) or 0)
    rows = await session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.chat_id,
            OutboxMessage.kind,
            Member.full_name,
            Unit.name,
            Unit.code,
            Unit.organization_id,
            OutboxMessage.channel,
            OutboxMessage.member_id,
        )
        .outerjoin(Member, Member.id == OutboxMessage.member_id)
        .outerjoin(Unit, Unit.id == Member.unit_id)
        .where(
            OutboxMessage.status == OutboxStatus.BLOCKED,
            OutboxMessage.id > upto,
            OutboxMessage.created_at >= since,
            OutboxMessage.kind.not_in(NOT_TOLD),
        )
        .order_by(OutboxMessage.id)
    )
    return [Blocked(*row) for row in rows.all()]


async def mark_told(session: AsyncSession, found: list[Blocked]) -> None:
    """The office has been told of these (in this transaction)."""
    if found:
        await set_state(session, TOLD_UPTO, str(max(b.row_id for b in found)))

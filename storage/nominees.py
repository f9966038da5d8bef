"""Nominees: the award forms a unit proposes them for, proposing one, finding one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import DossierEvent, record_nominee_event
from storage.models import Award, Nominee, ReviewState, Target
from storage.text import name_key


async def active_awards(session: AsyncSession, campaign_id: int) -> list[Award]:
    """The campaign's current award forms, in file order."""
    rows = await session.scalars(
        select(Award)
        .where(Award.campaign_id == campaign_id, Award.active.is_(True))
        .order_by(Award.position)
    )
    return list(rows)


async def award_usage(session: AsyncSession, campaign_id: int) -> dict[int, int]:
    """How many nominees are proposed for each award form, over all units."""
    rows = await session.execute(
        select(Nominee.award_id, func.count())
        .where(Nominee.campaign_id == campaign_id)
        .group_by(Nominee.award_id)
    )
    return {award_id: n for award_id, n in rows}


async def nominee_for_unit(session: AsyncSession, nominee_id: int, unit_id: int) -> Nominee | None:
    """The nominee if it belongs to this unit, else None (never trust a button)."""
    return await session.scalar(
        select(Nominee).where(Nominee.id == nominee_id, Nominee.unit_id == unit_id)
    )


async def add_nominee(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    name: str,
    award: Award,
    by: int,
    now: datetime,
    target: Target | None = None,
) -> Nominee | None:
    """Propose a nominee for an award form; None if the unit already proposed that name.

    `target` is what the nominee is (a collective or a person for an award open to either);
    by default the award's own target. Quotas are checked by storage.quotas.propose. The
    proposal is the first line of the nominee's dossier history."""
    target = target or award.target
    key = name_key(name)
    existing = await session.scalar(
        select(Nominee.id).where(
            Nominee.campaign_id == campaign_id,
            Nominee.unit_id == unit_id,
            Nominee.target == target,
            Nominee.name_key == key,
        )
    )
    if existing is not None:
        return None
    nominee = Nominee(
        campaign_id=campaign_id,
        unit_id=unit_id,
        name=name,
        name_key=key,
        target=target,
        award_id=award.id,
        created_by=by,
        created_at=now,
        review_state=ReviewState.NONE,
    )
    try:
        # Two focal points adding one name at once: the unique index decides, politely.
        async with session.begin_nested():
            session.add(nominee)
    except IntegrityError:
        return None
    detail = {"award": award.name, "target": target.value}
    await record_nominee_event(
        session, nominee, DossierEvent.PROPOSED, by=by, at=now, detail=detail
    )
    return nominee

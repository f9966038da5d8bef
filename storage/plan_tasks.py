"""Plans and their tasks as pushes name them: the plans still current, tasks by number."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Plan, PlanTask


async def plans_from(session: AsyncSession, year: int) -> list[Plan]:
    """Every plan of this year or a later one, by year."""
    return list(
        await session.scalars(select(Plan).where(Plan.year >= year).order_by(Plan.year, Plan.id))
    )


async def tasks_numbered(
    session: AsyncSession, plan_id: int | None, numbers: Iterable[int]
) -> list[PlanTask]:
    """The plan's tasks of these numbers, in number order."""
    rows = await session.scalars(
        select(PlanTask)
        .where(PlanTask.plan_id == plan_id, PlanTask.no.in_(list(numbers)))
        .order_by(PlanTask.no)
    )
    return list(rows)

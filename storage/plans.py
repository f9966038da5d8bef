"""Annual plans and their tasks: upsert from a data file, progress per unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Plan, PlanTask, TaskProgress, TaskUnit, Unit


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task as the plan file gives it (unit codes already resolved to ids)."""

    no: int
    quarter: int
    content: str
    due: date
    all_units: bool
    unit_ids: frozenset[int]
    lead_unit_id: int | None


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A plan as the file gives it."""

    year: int
    title: str
    tasks: tuple[TaskSpec, ...]


async def upsert_plan(session: AsyncSession, spec: PlanSpec) -> str:
    """Create or update a plan in place; returns "added", "updated" or "unchanged"."""
    plan = await session.scalar(select(Plan).where(Plan.year == spec.year))
    outcome = "unchanged"
    if plan is None:
        plan = Plan(year=spec.year, title=spec.title)
        session.add(plan)
        await session.flush()
        outcome = "added"
    elif plan.title != spec.title:
        plan.title = spec.title
        outcome = "updated"
    existing = {
        t.no: t for t in await session.scalars(select(PlanTask).where(PlanTask.plan_id == plan.id))
    }
    current_units = await _task_unit_ids(session, [t.id for t in existing.values()])
    for task_spec in spec.tasks:
        task = existing.pop(task_spec.no, None)
        if task is None:
            task = PlanTask(plan_id=plan.id, no=task_spec.no)
            session.add(task)
        values = {
            "quarter": task_spec.quarter,
            "content": task_spec.content,
            "due": task_spec.due,
            "all_units": task_spec.all_units,
            "lead_unit_id": task_spec.lead_unit_id,
            "active": True,
        }
        if task.id is None or any(getattr(task, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(task, key, value)
            outcome = "updated" if outcome == "unchanged" else outcome
        await session.flush()
        if current_units.get(task.id, frozenset()) != task_spec.unit_ids:
            await session.execute(delete(TaskUnit).where(TaskUnit.task_id == task.id))
            session.add_all(
                TaskUnit(task_id=task.id, unit_id=u) for u in sorted(task_spec.unit_ids)
            )
            outcome = "updated" if outcome == "unchanged" else outcome
    for dropped in existing.values():  # kept with its progress, no longer shown
        if dropped.active:
            dropped.active = False
            outcome = "updated" if outcome == "unchanged" else outcome
    await session.flush()
    return outcome


async def _task_unit_ids(session: AsyncSession, task_ids: list[int]) -> dict[int, frozenset[int]]:
    rows = await session.execute(
        select(TaskUnit.task_id, TaskUnit.unit_id).where(TaskUnit.task_id.in_(task_ids))
    )
    found: dict[int, set[int]] = {}
    for task_id, unit_id in rows:
        found.setdefault(task_id, set()).add(unit_id)
    return {k: frozenset(v) for k, v in found.items()}


def _responsible(unit_id: int) -> ColumnElement[bool]:
    named = select(TaskUnit.task_id).where(TaskUnit.unit_id == unit_id).scalar_subquery()
    return or_(PlanTask.all_units.is_(True), PlanTask.id.in_(named))


@dataclass(frozen=True, slots=True)
class UnitTask:
    """A task as a unit sees it: with whether (and when) the unit marked it done."""

    id: int
    no: int
    quarter: int
    content: str
    due: date
    done_at: datetime | None


async def plan_for_year(session: AsyncSession, year: int) -> Plan | None:
    """The plan of that year, or None."""
    return await session.scalar(select(Plan).where(Plan.year == year))


async def unit_tasks(
    session: AsyncSession, plan_id: int, unit_id: int, quarter: int | None = None
) -> list[UnitTask]:
    """The active tasks the unit is responsible for, optionally of one quarter, by number."""
    query = (
        select(PlanTask, TaskProgress.done_at)
        .outerjoin(
            TaskProgress,
            (TaskProgress.task_id == PlanTask.id) & (TaskProgress.unit_id == unit_id),
        )
        .where(PlanTask.plan_id == plan_id, PlanTask.active.is_(True), _responsible(unit_id))
        .order_by(PlanTask.no)
    )
    if quarter is not None:
        query = query.where(PlanTask.quarter == quarter)
    rows = await session.execute(query)
    return [UnitTask(t.id, t.no, t.quarter, t.content, t.due, done_at) for t, done_at in rows]


async def task_for_unit(session: AsyncSession, task_id: int, unit_id: int) -> PlanTask | None:
    """The active task if this unit is responsible for it, else None (never trust a button)."""
    return await session.scalar(
        select(PlanTask).where(
            PlanTask.id == task_id, PlanTask.active.is_(True), _responsible(unit_id)
        )
    )


async def set_task_done(
    session: AsyncSession, task_id: int, unit_id: int, done: bool, by: int, now: datetime
) -> None:
    """Mark or unmark the unit's task as done."""
    progress = await session.get(TaskProgress, (task_id, unit_id))
    if done and progress is None:
        session.add(TaskProgress(task_id=task_id, unit_id=unit_id, done_at=now, done_by=by))
    elif not done and progress is not None:
        await session.delete(progress)
    await session.flush()


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A task with which units are responsible and which have marked it done."""

    id: int
    no: int
    quarter: int
    content: str
    due: date
    responsible: tuple[Unit, ...]
    done: dict[int, datetime]


async def plan_progress(
    session: AsyncSession, plan_id: int, quarter: int | None = None
) -> list[TaskStatus]:
    """Per active task: the responsible units and when each marked it done."""
    query = select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.active.is_(True))
    if quarter is not None:
        query = query.where(PlanTask.quarter == quarter)
    tasks = list(await session.scalars(query.order_by(PlanTask.no)))
    ids = [t.id for t in tasks]
    units = list(await session.scalars(select(Unit).order_by(Unit.code)))
    named = await _task_unit_ids(session, ids)
    done: dict[int, dict[int, datetime]] = {}
    for progress in await session.scalars(
        select(TaskProgress).where(TaskProgress.task_id.in_(ids))
    ):
        done.setdefault(progress.task_id, {})[progress.unit_id] = progress.done_at
    return [
        TaskStatus(
            t.id,
            t.no,
            t.quarter,
            t.content,
            t.due,
            tuple(u for u in units if t.all_units or u.id in named.get(t.id, frozenset())),
            done.get(t.id, {}),
        )
        for t in tasks
    ]

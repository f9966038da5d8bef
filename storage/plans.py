"""Plans and their tasks: upsert from a data file, progress per unit (and per period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    DueForm,
    Plan,
    PlanTask,
    Repeat,
    TaskProgress,
    TaskUnit,
    Unit,
)
from storage.units import reporting, reports


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """One task as the plan file gives it (unit codes already resolved to ids)."""

    no: int
    quarter: int | None
    content: str
    due: date | None
    all_units: bool
    unit_ids: frozenset[int]
    lead_unit_id: int | None
    due_form: DueForm = DueForm.DAY
    repeat: Repeat | None = None
    repeat_day: int | None = None
    repeat_month: int | None = None


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A plan as the file gives it, within its organisation."""

    organization_id: int
    code: str
    year: int
    title: str
    tasks: tuple[TaskSpec, ...]


async def plan_by_code(session: AsyncSession, org_id: int, code: str) -> Plan | None:
    """The organisation's plan with this code, or None."""
    return await session.scalar(
        select(Plan).where(Plan.organization_id == org_id, Plan.code == code)
    )


async def upsert_plan(session: AsyncSession, spec: PlanSpec, *, replace: bool = False) -> str:
    """Create or update a plan in place; returns "added", "updated", "replaced" or "unchanged".

    With `replace`, the stored plan of that code is another document: its progress marks go,
    its tasks take the new file's contents.
    """
    plan = await plan_by_code(session, spec.organization_id, spec.code)
    outcome = "unchanged"
    if plan is None:
        plan = Plan(
            organization_id=spec.organization_id, code=spec.code, year=spec.year, title=spec.title
        )
        session.add(plan)
        await session.flush()
        outcome = "added"
    elif (plan.title, plan.year) != (spec.title, spec.year) or replace:
        if replace:
            old_tasks = select(PlanTask.id).where(PlanTask.plan_id == plan.id)
            await session.execute(delete(TaskProgress).where(TaskProgress.task_id.in_(old_tasks)))
        plan.title, plan.year = spec.title, spec.year
        outcome = "replaced" if replace else "updated"
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
            "due_form": task_spec.due_form,
            "repeat": task_spec.repeat,
            "repeat_day": task_spec.repeat_day,
            "repeat_month": task_spec.repeat_month,
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
    """SQL condition: the unit is one that reports, and it is named for the task or the task
    is for every unit of the plan's organisation (a task of the leadership or a council is
    the office's own: no unit marks it)."""
    unit_reports = select(Unit.id).where(Unit.id == unit_id, reporting()).exists()
    named = select(TaskUnit.task_id).where(TaskUnit.unit_id == unit_id).scalar_subquery()
    of_all = (
        select(Plan.id)
        .join(Unit, Unit.organization_id == Plan.organization_id)
        .where(Unit.id == unit_id)
        .scalar_subquery()
    )
    return unit_reports & or_(
        PlanTask.id.in_(named), PlanTask.all_units.is_(True) & PlanTask.plan_id.in_(of_all)
    )


@dataclass(frozen=True, slots=True)
class UnitTask:
    """A task as a unit sees it: with whether (and when) the unit marked it done; for a
    recurring task, per period (the occurrence's due date, ISO)."""

    id: int
    no: int
    quarter: int | None
    content: str
    due: date | None
    done_at: datetime | None
    due_form: DueForm = DueForm.DAY
    repeat: Repeat | None = None
    repeat_day: int | None = None
    repeat_month: int | None = None
    done_periods: tuple[tuple[str, datetime], ...] = ()


async def plans_of_year(session: AsyncSession, year: int, org_id: int) -> list[Plan]:
    """The organisation's plans of that year, in the order they were loaded."""
    rows = await session.scalars(
        select(Plan).where(Plan.year == year, Plan.organization_id == org_id).order_by(Plan.id)
    )
    return list(rows)


async def plan_for_year(session: AsyncSession, year: int, org_id: int) -> Plan | None:
    """The organisation's first plan of that year, or None."""
    plans = await plans_of_year(session, year, org_id)
    return plans[0] if plans else None


def _in_quarter(quarter: int) -> ColumnElement[bool]:
    # A recurring task, or one for the whole year with no date, has no quarter of its own:
    # it is listed in every quarter.
    return or_(PlanTask.quarter == quarter, PlanTask.quarter.is_(None))


async def unit_tasks(
    session: AsyncSession, plan_id: int, unit_id: int, quarter: int | None = None
) -> list[UnitTask]:
    """The active tasks the unit is responsible for, optionally of one quarter, by number."""
    query = (
        select(PlanTask)
        .where(PlanTask.plan_id == plan_id, PlanTask.active.is_(True), _responsible(unit_id))
        .order_by(PlanTask.no)
    )
    if quarter is not None:
        query = query.where(_in_quarter(quarter))
    tasks = list(await session.scalars(query))
    done: dict[int, dict[str, datetime]] = {}
    for progress in await session.scalars(
        select(TaskProgress).where(
            TaskProgress.unit_id == unit_id, TaskProgress.task_id.in_([t.id for t in tasks])
        )
    ):
        done.setdefault(progress.task_id, {})[progress.period] = progress.done_at
    return [
        UnitTask(
            t.id,
            t.no,
            t.quarter,
            t.content,
            t.due,
            done.get(t.id, {}).get(""),
            t.due_form,
            t.repeat,
            t.repeat_day,
            t.repeat_month,
            tuple(sorted((p, at) for p, at in done.get(t.id, {}).items() if p)),
        )
        for t in tasks
    ]


async def task_for_unit(session: AsyncSession, task_id: int, unit_id: int) -> PlanTask | None:
    """The active task if this unit is responsible for it, else None (never trust a button)."""
    return await session.scalar(
        select(PlanTask).where(
            PlanTask.id == task_id, PlanTask.active.is_(True), _responsible(unit_id)
        )
    )


async def set_task_done(
    session: AsyncSession,
    task_id: int,
    unit_id: int,
    done: bool,
    by: int,
    now: datetime,
    period: str = "",
) -> None:
    """Mark or unmark the unit's task (of one period, for a recurring task) as done."""
    progress = await session.get(TaskProgress, (task_id, unit_id, period))
    if done and progress is None:
        session.add(
            TaskProgress(task_id=task_id, unit_id=unit_id, period=period, done_at=now, done_by=by)
        )
    elif not done and progress is not None:
        await session.delete(progress)
    await session.flush()


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """A task with which units are responsible and which have marked it done (for a recurring
    task, `done` holds the marks of the period "" only; `done_periods` every period's)."""

    id: int
    no: int
    quarter: int | None
    content: str
    due: date | None
    responsible: tuple[Unit, ...]
    done: dict[int, datetime]
    due_form: DueForm = DueForm.DAY
    repeat: Repeat | None = None
    repeat_day: int | None = None
    repeat_month: int | None = None
    done_periods: dict[str, frozenset[int]] | None = None


async def plan_progress(
    session: AsyncSession, plan_id: int, quarter: int | None = None
) -> list[TaskStatus]:
    """Per active task: the responsible units (only those that report: the leadership and
    councils a task names are not counted) and when each marked it done."""
    plan = await session.get_one(Plan, plan_id)
    query = select(PlanTask).where(PlanTask.plan_id == plan_id, PlanTask.active.is_(True))
    if quarter is not None:
        query = query.where(_in_quarter(quarter))
    tasks = list(await session.scalars(query.order_by(PlanTask.no)))
    ids = [t.id for t in tasks]
    units = list(
        await session.scalars(
            select(Unit).where(Unit.organization_id == plan.organization_id).order_by(Unit.code)
        )
    )
    named = await _task_unit_ids(session, ids)
    named_units = set().union(*named.values()) if named else set()
    outside = named_units - {u.id for u in units}
    if outside:  # named units of another body (data carried from before organisations)
        units += list(await session.scalars(select(Unit).where(Unit.id.in_(outside))))
    done: dict[int, dict[int, datetime]] = {}
    periods: dict[int, dict[str, set[int]]] = {}
    for progress in await session.scalars(
        select(TaskProgress).where(TaskProgress.task_id.in_(ids))
    ):
        if progress.period:
            periods.setdefault(progress.task_id, {}).setdefault(progress.period, set()).add(
                progress.unit_id
            )
        else:
            done.setdefault(progress.task_id, {})[progress.unit_id] = progress.done_at
    return [
        TaskStatus(
            t.id,
            t.no,
            t.quarter,
            t.content,
            t.due,
            tuple(
                u
                for u in units
                if reports(u)
                and (
                    u.id in named.get(t.id, frozenset())
                    or (t.all_units and u.organization_id == plan.organization_id)
                )
            ),
            done.get(t.id, {}),
            t.due_form,
            t.repeat,
            t.repeat_day,
            t.repeat_month,
            {p: frozenset(us) for p, us in periods.get(t.id, {}).items()},
        )
        for t in tasks
    ]

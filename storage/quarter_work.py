"""What a quarter asks (/nhiemvu): a unit's plan tasks and campaign steps, every unit's
progress for the office, and a unit marking a task (or one due date of it) or a step done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CampaignDeadline, Plan, PlanTask
from storage.plans import (
    TaskStatus,
    UnitTask,
    plan_progress,
    plans_of_year,
    set_task_done,
    task_for_unit,
    unit_tasks,
)
from storage.steps import (
    CampaignSteps,
    organization_campaign_steps,
    set_step_done,
    step_for_unit,
    steps_of_campaign,
    unit_campaign_steps,
)


@dataclass(frozen=True, slots=True)
class UnitWork:
    """A unit's quarter: the year's plans, their tasks for the unit (with its marks), and the
    launched campaigns' steps (the unit's own marked)."""

    plans: list[Plan]
    tasks: list[tuple[Plan, UnitTask]]
    campaigns: list[CampaignSteps]


async def unit_work(
    session: AsyncSession, year: int, org_id: int, unit_id: int, quarter: int, now: datetime
) -> UnitWork:
    """What the unit must do in the quarter of the year, with what it has marked done."""
    plans = await plans_of_year(session, year, org_id)
    tasks = [(p, t) for p in plans for t in await unit_tasks(session, p.id, unit_id, quarter)]
    return UnitWork(plans, tasks, await unit_campaign_steps(session, unit_id, now))


@dataclass(frozen=True, slots=True)
class OfficeWork:
    """The organisation's quarter: the year's plans with every task's progress, and the
    launched campaigns' steps with who has met them."""

    plans: list[Plan]
    statuses: list[tuple[Plan, TaskStatus]]
    campaigns: list[CampaignSteps]


async def office_work(
    session: AsyncSession, year: int, org_id: int, quarter: int, now: datetime
) -> OfficeWork:
    """How far the organisation's units are with the quarter's tasks and steps."""
    plans = await plans_of_year(session, year, org_id)
    statuses = [(p, s) for p in plans for s in await plan_progress(session, p.id, quarter)]
    return OfficeWork(plans, statuses, await organization_campaign_steps(session, org_id, now))


@dataclass(frozen=True, slots=True)
class MarkedTask:
    """A task the unit marked (or unmarked), its plan, and the period marked ("": all)."""

    task: PlanTask
    plan: Plan
    period: str


async def mark_task(
    session: AsyncSession,
    task_id: int,
    unit_id: int,
    *,
    done: bool,
    by: int,
    now: datetime,
    period_of: Callable[[PlanTask, Plan], str | None],
) -> MarkedTask | None:
    """Mark the unit's task done or not, for the period `period_of(task, plan)` names; None
    (nothing marked) when the task is not the unit's or `period_of` finds no such period."""
    task = await task_for_unit(session, task_id, unit_id)
    if task is None:
        return None
    plan = await session.get_one(Plan, task.plan_id)
    period = period_of(task, plan)
    if period is None:
        return None
    await set_task_done(session, task.id, unit_id, done, by, now, period)
    return MarkedTask(task, plan, period)


@dataclass(frozen=True, slots=True)
class MarkedStep:
    """A campaign step the unit marked (or unmarked), with its campaign's steps to date it."""

    step: CampaignDeadline
    campaign: CampaignSteps


async def mark_step(
    session: AsyncSession, step_id: int, unit_id: int, *, done: bool, by: int, now: datetime
) -> MarkedStep | None:
    """Mark the unit's campaign step done or not; None when it is not the unit's to meet."""
    step = await step_for_unit(session, step_id, unit_id, now)
    if step is None:
        return None
    await set_step_done(session, step.id, unit_id, done, by, now)
    return MarkedStep(step, await steps_of_campaign(session, step.campaign_id))

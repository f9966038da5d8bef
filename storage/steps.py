"""A campaign's own steps (`deadlines:`) as units and the office see them, and their marks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import (
    active_deadlines,
    all_campaigns,
    campaign_for_unit,
    launched_campaigns_of_unit,
    participating_units,
)
from storage.models import (
    Campaign,
    CampaignDeadline,
    DeadlineProgress,
    DeadlineWho,
    DueForm,
    Unit,
)
from storage.windows import launched


@dataclass(frozen=True, slots=True)
class StepRow:
    """One active step of a campaign in plain values: its date as written (or how it is
    counted from another step), who must meet it and, as far as asked, who has."""

    id: int
    code: str
    title: str
    due: date | None
    due_form: DueForm
    after: str | None
    days: int | None
    working_days: bool
    who: DeadlineWho
    # For a unit's view: the unit must meet it, and when it marked it done.
    mine: bool = False
    done_at: datetime | None = None
    # For the office's view: the units that must meet it, and those that marked it done.
    responsible: tuple[Unit, ...] = ()
    done_unit_ids: frozenset[int] = frozenset()

    @property
    def office(self) -> bool:
        """Whether the office itself must meet it (no unit marks it)."""
        return self.who is DeadlineWho.OFFICE


@dataclass(frozen=True, slots=True)
class CampaignSteps:
    """A campaign with every active step of its own, in file order (all of them, since a
    unit's step may be counted from the office's)."""

    campaign: Campaign
    steps: tuple[StepRow, ...]


def _row(
    d: CampaignDeadline,
    *,
    mine: bool = False,
    done_at: datetime | None = None,
    responsible: tuple[Unit, ...] = (),
    done_unit_ids: frozenset[int] = frozenset(),
) -> StepRow:
    return StepRow(
        d.id,
        d.code,
        d.title,
        d.due,
        d.due_form,
        d.after,
        d.days,
        d.working_days,
        d.who,
        mine,
        done_at,
        responsible,
        done_unit_ids,
    )


def is_units_step_of(deadline: CampaignDeadline, unit_id: int) -> bool:
    """Whether the unit must meet this step (given that it takes part in the campaign)."""
    return deadline.who is DeadlineWho.UNITS and (
        deadline.all_units or unit_id in (deadline.unit_ids or [])
    )


async def _done_by(
    session: AsyncSession, deadline_ids: list[int]
) -> dict[int, dict[int, datetime]]:
    """deadline id -> unit id -> when the unit marked it done."""
    found: dict[int, dict[int, datetime]] = {}
    if not deadline_ids:
        return found
    for progress in await session.scalars(
        select(DeadlineProgress).where(DeadlineProgress.deadline_id.in_(deadline_ids))
    ):
        found.setdefault(progress.deadline_id, {})[progress.unit_id] = progress.done_at
    return found


async def unit_campaign_steps(
    session: AsyncSession, unit_id: int, now: datetime
) -> list[CampaignSteps]:
    """Every launched campaign the unit takes part in (with or without steps of its own),
    each step saying whether it is the unit's and when the unit marked it done."""
    out = []
    for campaign in await launched_campaigns_of_unit(session, unit_id, now):
        deadlines = await active_deadlines(session, campaign.id)
        done = await _done_by(session, [d.id for d in deadlines])
        steps = tuple(
            _row(
                d,
                mine=is_units_step_of(d, unit_id),
                done_at=done.get(d.id, {}).get(unit_id),
            )
            for d in deadlines
        )
        out.append(CampaignSteps(campaign, steps))
    return out


async def organization_campaign_steps(
    session: AsyncSession, org_id: int, launched_by: datetime | None = None
) -> list[CampaignSteps]:
    """Every campaign of the organisation (only those launched by then, if given), each step
    with the units that must meet it and those that marked it done (office steps: none)."""
    out = []
    for campaign in await all_campaigns(session, org_id):
        if launched_by is not None and not launched(campaign, launched_by):
            continue
        deadlines = await active_deadlines(session, campaign.id)
        if not deadlines:
            out.append(CampaignSteps(campaign, ()))
            continue
        units = await participating_units(session, campaign)
        done = await _done_by(session, [d.id for d in deadlines])
        steps = []
        for d in deadlines:
            chosen = (
                ()
                if d.who is DeadlineWho.OFFICE
                else tuple(u for u in units if d.all_units or u.id in (d.unit_ids or []))
            )
            marked = done.get(d.id, {})
            steps.append(
                _row(
                    d,
                    responsible=chosen,
                    done_unit_ids=frozenset(u.id for u in chosen if u.id in marked),
                )
            )
        out.append(CampaignSteps(campaign, tuple(steps)))
    return out


async def step_for_unit(
    session: AsyncSession, deadline_id: int, unit_id: int, now: datetime
) -> CampaignDeadline | None:
    """The active step if it is the unit's to meet, in a launched campaign the unit takes
    part in; else None (never trust a button)."""
    deadline = await session.get(CampaignDeadline, deadline_id)
    if deadline is None or not deadline.active or not is_units_step_of(deadline, unit_id):
        return None
    if await campaign_for_unit(session, deadline.campaign_id, unit_id, now) is None:
        return None
    return deadline


async def set_step_done(
    session: AsyncSession, deadline_id: int, unit_id: int, done: bool, by: int, now: datetime
) -> None:
    """Mark or unmark the unit's step as done (check it with step_for_unit first)."""
    progress = await session.get(DeadlineProgress, (deadline_id, unit_id))
    if done and progress is None:
        session.add(
            DeadlineProgress(deadline_id=deadline_id, unit_id=unit_id, done_at=now, done_by=by)
        )
    elif not done and progress is not None:
        await session.delete(progress)
    await session.flush()


async def steps_of_campaign(session: AsyncSession, campaign_id: int) -> CampaignSteps:
    """A campaign with its active steps, nothing marked (enough to date them)."""
    campaign = await session.get_one(Campaign, campaign_id)
    deadlines = await active_deadlines(session, campaign_id)
    return CampaignSteps(campaign, tuple(_row(d) for d in deadlines))

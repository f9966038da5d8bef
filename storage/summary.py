"""The office summary (`/tonghop`, `thiduabot export`): registrations, tasks, dossiers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import active_titles, all_campaigns, campaign_by_code, participating_units
from storage.dossier_status import dossier_status
from storage.models import Campaign, Target
from storage.organizations import all_organizations
from storage.plans import plan_for_year, plan_progress
from storage.registrations import describe_registration, registrations_of_campaign
from storage.units import all_units
from storage.windows import dossier_recent, has_registration, launched, recent


class UnknownCampaign(LookupError):
    """No campaign has the code asked for."""


@dataclass(frozen=True, slots=True)
class UnitRegistration:
    """One unit's registration for a campaign, as the office sees it."""

    unit_code: str
    unit_name: str
    registered: bool
    registered_at: datetime | None  # naive local time, already converted
    collective_title: str | None  # None: no collective title chosen, or not registered
    individuals: tuple[tuple[str, str, str], ...] = ()  # (full name, position, title)


@dataclass(frozen=True, slots=True)
class CampaignRegistrations:
    """A campaign and every unit's registration for it."""

    code: str
    title: str
    registration_deadline: date | None
    individual_titles: tuple[str, ...]  # column order for the per-title counts
    units: tuple[UnitRegistration, ...]


@dataclass(frozen=True, slots=True)
class QuarterTasks:
    """One quarter of the plan: tasks, which unit must do which, and what is done."""

    year: int
    quarter: int
    tasks: tuple[tuple[int, str, date | None], ...]  # (number, content, due)
    units: tuple[tuple[str, str], ...]  # (code, name) in row order
    responsible: frozenset[tuple[str, int]]  # (unit_code, task_no) the unit must do
    done: Mapping[tuple[str, int], date]  # (unit_code, task_no) -> date marked done (local)


@dataclass(frozen=True, slots=True)
class DossierCounts:
    """A campaign's nominees by the state of their dossier."""

    code: str
    title: str
    deadline: date
    by_state: dict[str, int]
    units_proposing: int


@dataclass(frozen=True, slots=True)
class OfficeSummary:
    """Everything the summary shows, in plain values."""

    organization: str
    generated_at: datetime  # naive local time
    campaigns: list[CampaignRegistrations]
    quarters: list[QuarterTasks]
    dossiers: list[DossierCounts]


async def campaign_registrations(
    session: AsyncSession, campaign: Campaign, tz: ZoneInfo
) -> CampaignRegistrations:
    """Every participating unit with its registration (or none) for the campaign."""
    saved = await registrations_of_campaign(session, campaign.id)
    rows = []
    for unit in await participating_units(session, campaign):
        registration = saved.get(unit.id)
        view = await describe_registration(session, registration) if registration else None
        rows.append(
            UnitRegistration(
                unit_code=unit.code,
                unit_name=unit.name,
                registered=view is not None,
                registered_at=view.registered_at.astimezone(tz).replace(tzinfo=None)
                if view
                else None,
                collective_title=view.collective if view else None,
                individuals=view.people if view else (),
            )
        )
    titles = await active_titles(session, campaign.id, Target.CA_NHAN)
    return CampaignRegistrations(
        code=campaign.code,
        title=campaign.title,
        registration_deadline=campaign.registration_deadline,
        individual_titles=tuple(t.name for t in titles),
        units=tuple(rows),
    )


async def plan_quarters(
    session: AsyncSession, year: int, tz: ZoneInfo, org_id: int
) -> list[QuarterTasks]:
    """The plan of the year, quarter by quarter: who must do what and what is done."""
    plan = await plan_for_year(session, year, org_id)
    if plan is None:
        return []
    units = await all_units(session, org_id)
    by_id = {u.id: u for u in units}
    quarters = []
    for quarter in range(1, 5):
        statuses = await plan_progress(session, plan.id, quarter)
        if not statuses:
            continue
        responsible = frozenset((u.code, s.no) for s in statuses for u in s.responsible)
        involved = {code for code, _ in responsible}
        quarters.append(
            QuarterTasks(
                year=year,
                quarter=quarter,
                tasks=tuple((s.no, s.content, s.due) for s in statuses),
                units=tuple((u.code, u.name) for u in units if u.code in involved),
                responsible=responsible,
                done={
                    (by_id[unit_id].code, s.no): at.astimezone(tz).date()
                    for s in statuses
                    for unit_id, at in s.done.items()
                },
            )
        )
    return quarters


async def dossier_counts(session: AsyncSession, campaign: Campaign) -> DossierCounts:
    """How many nominees' dossiers are incomplete, complete, in review, returned, approved."""
    by_state: dict[str, int] = {}
    proposing = 0
    for unit in await participating_units(session, campaign):
        dossier = await dossier_status(session, campaign, unit.id)
        proposing += bool(dossier.nominees)
        for nominee in dossier.nominees:
            by_state[nominee.shown] = by_state.get(nominee.shown, 0) + 1
    assert campaign.dossier_deadline is not None
    return DossierCounts(
        campaign.code, campaign.title, campaign.dossier_deadline, by_state, proposing
    )


async def office_summary(
    session: AsyncSession,
    tz: ZoneInfo,
    now: datetime,
    campaign_code: str | None = None,
    org_id: int | None = None,
) -> OfficeSummary:
    """The summary of an organisation (the only one, when None): registration campaigns (or
    the one asked for) and this year's plan."""
    organizations = await all_organizations(session)
    org = next((o for o in organizations if o.id == org_id), None) or (
        organizations[0] if organizations else None
    )
    org_id = org.id if org else 0
    if campaign_code is not None:
        campaign = await campaign_by_code(session, campaign_code)
        if campaign is None:
            raise UnknownCampaign(campaign_code)
        campaigns = [campaign]
    else:
        today = now.astimezone(tz).date()
        campaigns = [
            c
            for c in await all_campaigns(session, org_id)
            if has_registration(c) and launched(c, now) and recent(c, today)
        ]
    today = now.astimezone(tz).date()
    with_dossiers = [
        c
        for c in await all_campaigns(session, org_id)
        if launched(c, now)
        and dossier_recent(c, today)
        and (campaign_code is None or c.code == campaign_code)
    ]
    return OfficeSummary(
        organization=org.name if org else "",
        generated_at=now.astimezone(tz).replace(tzinfo=None),
        campaigns=[await campaign_registrations(session, c, tz) for c in campaigns],
        quarters=await plan_quarters(session, now.astimezone(tz).year, tz, org_id),
        dossiers=[await dossier_counts(session, c) for c in with_dossiers],
    )

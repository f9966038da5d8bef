"""`/tonghop` and `thiduabot export`: who registered, tasks done per quarter, the Excel workbook."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from messages.workbooks import (
    CampaignRegistrations,
    QuarterTasks,
    UnitRegistration,
    build_summary_workbook,
)
from storage.campaigns import (
    active_titles,
    all_campaigns,
    campaign_by_code,
    participating_units,
)
from storage.dossiers import dossier_status
from storage.models import Campaign, Role, Target
from storage.organizations import all_organizations
from storage.plans import plan_for_year, plan_progress
from storage.registrations import describe_registration, registrations_of_campaign
from storage.units import all_units


class UnknownCampaign(LookupError):
    """No campaign has the code asked for."""


@dataclass(frozen=True, slots=True)
class DossierCounts:
    """A campaign's nominees by the state of their dossier."""

    code: str
    title: str
    deadline: date
    by_state: dict[str, int]
    units_proposing: int


@dataclass(frozen=True, slots=True)
class Summary:
    """Everything the summary shows, in plain values."""

    organization: str
    generated_at: datetime
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


async def build_summary(
    session: AsyncSession,
    tz: ZoneInfo,
    now: datetime,
    campaign_code: str | None = None,
    org_id: int | None = None,
) -> Summary:
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
            if c.registration_deadline is not None
            and c.launch_at <= now
            and c.end >= date(today.year - 1, 1, 1)
        ]
    today = now.astimezone(tz).date()
    with_dossiers = [
        c
        for c in await all_campaigns(session, org_id)
        if c.dossier_deadline is not None
        and c.launch_at <= now
        and c.dossier_deadline >= date(today.year - 1, 1, 1)
        and (campaign_code is None or c.code == campaign_code)
    ]
    return Summary(
        organization=org.name if org else "",
        generated_at=now.astimezone(tz).replace(tzinfo=None),
        campaigns=[await campaign_registrations(session, c, tz) for c in campaigns],
        quarters=await plan_quarters(session, now.astimezone(tz).year, tz, org_id),
        dossiers=[await dossier_counts(session, c) for c in with_dossiers],
    )


def summary_workbook(summary: Summary) -> bytes:
    """The summary as an Excel workbook."""
    return build_summary_workbook(
        summary.organization, summary.generated_at, summary.campaigns, summary.quarters
    )


@guard(Role.OFFICE, Role.LEADER)
async def show_summary(update: Update, context: BotContext) -> None:
    """`/tonghop`: registrations per campaign and task progress, with the workbook attached."""
    assert update.effective_message is not None
    async with context.rt.db.read() as session:
        assert context.member is not None
        summary = await build_summary(
            session, context.rt.tz, context.rt.now(), org_id=context.member.organization_id
        )
    await update.effective_message.reply_text(render("office/summary", summary=summary))
    stamp = summary.generated_at.strftime("%Y%m%d-%H%M")
    await update.effective_message.reply_document(
        summary_workbook(summary),
        filename=f"tong-hop-thi-dua-{stamp}.xlsx",
        caption=render("office/summary_caption", generated_at=summary.generated_at),
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The office summary command."""
    return [CommandHandler("tonghop", show_summary)]

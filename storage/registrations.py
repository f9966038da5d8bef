"""Registrations: a unit's collective title and individuals for a campaign."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.campaigns import active_titles, campaign_for_unit
from storage.models import (
    Campaign,
    CampaignTitle,
    Member,
    RegisteredIndividual,
    Registration,
    Target,
)
from storage.windows import has_registration, registration_open


@dataclass(frozen=True, slots=True)
class RegisteredPerson:
    """One individual to register."""

    full_name: str
    job_title: str
    title_id: int


async def registration_of(
    session: AsyncSession, campaign_id: int, unit_id: int, *, lock: bool = False
) -> Registration | None:
    """The unit's registration for the campaign, with its individuals, or None; with `lock`
    (PostgreSQL), held until the transaction ends, so two confirms take turns."""
    query = (
        select(Registration)
        .options(selectinload(Registration.individuals))
        .where(Registration.campaign_id == campaign_id, Registration.unit_id == unit_id)
    )
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return await session.scalar(query)


async def registration_revision(session: AsyncSession, campaign_id: int, unit_id: int) -> int:
    """The revision of the unit's registration (0: none yet), which a new draft starts from."""
    revision = await session.scalar(
        select(Registration.revision).where(
            Registration.campaign_id == campaign_id, Registration.unit_id == unit_id
        )
    )
    return revision or 0


async def save_registration(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    collective_title_id: int | None,
    people: Sequence[RegisteredPerson],
    by: int,
    now: datetime,
) -> Registration:
    """Create the unit's registration, or replace the previous one whole."""
    registration = await registration_of(session, campaign_id, unit_id, lock=True)
    if registration is None:
        registration = Registration(
            campaign_id=campaign_id, unit_id=unit_id, revision=0, individuals=[]
        )
        session.add(registration)
    registration.collective_title_id = collective_title_id
    registration.registered_by = by
    registration.registered_at = now
    registration.revision += 1
    registration.individuals.clear()
    await session.flush()
    registration.individuals.extend(
        RegisteredIndividual(
            position=i, full_name=p.full_name, job_title=p.job_title, title_id=p.title_id
        )
        for i, p in enumerate(people, start=1)
    )
    await session.flush()
    return registration


async def registrations_of_campaign(
    session: AsyncSession, campaign_id: int
) -> dict[int, Registration]:
    """Every registration of the campaign by unit id, with individuals."""
    rows = await session.scalars(
        select(Registration)
        .options(selectinload(Registration.individuals))
        .where(Registration.campaign_id == campaign_id)
    )
    return {r.unit_id: r for r in rows}


async def registered_unit_ids(session: AsyncSession, campaign_id: int) -> set[int]:
    """The units that have registered for the campaign."""
    rows = await session.scalars(
        select(Registration.unit_id).where(Registration.campaign_id == campaign_id)
    )
    return set(rows)


@dataclass(frozen=True, slots=True)
class RegistrationView:
    """A saved registration in plain values: title names instead of ids."""

    collective: str | None
    people: tuple[tuple[str, str, str], ...]
    registered_at: datetime
    revision: int


async def describe_registration(
    session: AsyncSession, registration: Registration
) -> RegistrationView:
    """Resolve a registration's title ids to names."""
    rows = await session.execute(
        select(CampaignTitle.id, CampaignTitle.name).where(
            CampaignTitle.campaign_id == registration.campaign_id
        )
    )
    names: dict[int, str] = {title_id: name for title_id, name in rows}
    collective = registration.collective_title_id
    return RegistrationView(
        collective=names.get(collective) if collective is not None else None,
        people=tuple(
            (p.full_name, p.job_title, names.get(p.title_id, "")) for p in registration.individuals
        ),
        registered_at=registration.registered_at,
        revision=registration.revision,
    )


class Refused(enum.StrEnum):
    """Why a confirmed draft was not saved."""

    CLOSED = "closed_now"  # the window closed (or the campaign is not the unit's) meanwhile
    TITLES_CHANGED = "titles_changed"  # a title of the draft is no longer the campaign's


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A registration saved: its revision and the campaign's title; `replaced_by` and
    `replaced_at` when it replaced one another person confirmed after this draft began."""

    revision: int
    campaign_title: str
    replaced_by: str | None = None
    replaced_at: datetime | None = None


async def confirm_registration(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    collective_title_id: int | None,
    people: Sequence[RegisteredPerson],
    by: int,
    today: date,
    now: datetime,
    based_on: int | None = None,
) -> Confirmed | Refused:
    """Save a confirmed draft, after checking again that the campaign is the unit's, its
    registration window open on `today` (local) and every title still the campaign's."""
    campaign = await campaign_for_unit(session, campaign_id, unit_id, now)
    if campaign is None or not registration_open(campaign, today):
        return Refused.CLOSED
    valid = {t.id for t in await active_titles(session, campaign.id, Target.CA_NHAN)}
    valid |= {t.id for t in await active_titles(session, campaign.id, Target.TAP_THE)}
    wanted = {p.title_id for p in people} | (
        {collective_title_id} if collective_title_id else set()
    )
    if not wanted <= valid:
        return Refused.TITLES_CHANGED

    async def save() -> tuple[Registration, tuple[int, datetime] | None]:
        before = await registration_of(session, campaign.id, unit_id, lock=True)
        replaced = _replaced(before, based_on, by)  # read before the row is rewritten
        saved = await save_registration(
            session,
            campaign_id=campaign.id,
            unit_id=unit_id,
            collective_title_id=collective_title_id,
            people=people,
            by=by,
            now=now,
        )
        return saved, replaced

    try:
        async with session.begin_nested():  # two first registrations at once: one inserts
            saved, replaced = await save()
    except IntegrityError:  # the other came first: this one replaces it, and says so
        saved, replaced = await save()
    if replaced is None:
        return Confirmed(saved.revision, campaign.title)
    who = await session.scalar(
        select(Member.full_name).where(Member.telegram_user_id == replaced[0]).limit(1)
    )
    return Confirmed(saved.revision, campaign.title, who or "", replaced[1])


def _replaced(
    before: Registration | None, based_on: int | None, by: int
) -> tuple[int, datetime] | None:
    """Who confirmed, and when, the registration this one replaces without having seen it:
    newer than the draft's start and another person's (None: nothing of the kind)."""
    if before is None or based_on is None or before.revision == based_on:
        return None
    if before.registered_by == by:
        return None
    return before.registered_by, before.registered_at


@dataclass(frozen=True, slots=True)
class FormFacts:
    """What the registration form of a campaign for one unit is built from."""

    campaign: Campaign
    collective_titles: list[CampaignTitle]
    individual_titles: list[CampaignTitle]
    current: RegistrationView | None  # the registration saved so far


async def registration_form_facts(
    session: AsyncSession, campaign_id: int, unit_id: int, now: datetime
) -> FormFacts | None:
    """The campaign (if it is the unit's), its titles and the unit's saved registration."""
    campaign = await campaign_for_unit(session, campaign_id, unit_id, now)
    if campaign is None:
        return None
    saved = await registration_of(session, campaign.id, unit_id)
    return FormFacts(
        campaign,
        list(await active_titles(session, campaign.id, Target.TAP_THE)),
        list(await active_titles(session, campaign.id, Target.CA_NHAN)),
        await describe_registration(session, saved) if saved else None,
    )


async def campaign_registration(
    session: AsyncSession, campaign_id: int, unit_id: int, now: datetime
) -> tuple[Campaign, RegistrationView | None] | None:
    """A campaign of the unit that takes registrations, with the unit's saved registration
    (None when the campaign is not the unit's or takes none)."""
    campaign = await campaign_for_unit(session, campaign_id, unit_id, now)
    if campaign is None or not has_registration(campaign):
        return None
    saved = await registration_of(session, campaign.id, unit_id)
    return campaign, await describe_registration(session, saved) if saved else None

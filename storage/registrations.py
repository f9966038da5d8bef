"""Registrations: a unit's collective title and individuals for a campaign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import CampaignTitle, RegisteredIndividual, Registration


@dataclass(frozen=True, slots=True)
class Person:
    """One individual to register."""

    full_name: str
    job_title: str
    title_id: int


async def registration_of(
    session: AsyncSession, campaign_id: int, unit_id: int
) -> Registration | None:
    """The unit's registration for the campaign, with its individuals, or None."""
    return await session.scalar(
        select(Registration)
        .options(selectinload(Registration.individuals))
        .where(Registration.campaign_id == campaign_id, Registration.unit_id == unit_id)
    )


async def save_registration(
    session: AsyncSession,
    *,
    campaign_id: int,
    unit_id: int,
    collective_title_id: int | None,
    people: Sequence[Person],
    by: int,
    now: datetime,
) -> Registration:
    """Create the unit's registration, or replace the previous one whole."""
    registration = await registration_of(session, campaign_id, unit_id)
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

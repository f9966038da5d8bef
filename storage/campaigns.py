"""Campaigns: upsert from a data file (titles, awards, documents kept in place), look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import BindParameter, ColumnElement, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Award,
    Campaign,
    CampaignDeadline,
    CampaignKind,
    CampaignTitle,
    CampaignUnit,
    DeadlineWho,
    DocumentScope,
    DueForm,
    RequiredDocument,
    Target,
    Unit,
)
from storage.units import reporting


@dataclass(frozen=True, slots=True)
class TitleSpec:
    """An emulation title of a campaign."""

    target: Target
    name: str
    short: str | None


@dataclass(frozen=True, slots=True)
class AwardSpec:
    """An award form with its quotas (None: no limit) and, if any, its own documents."""

    code: str
    name: str
    target: Target
    quota: int | None
    quota_per_unit: int | None = None
    quota_overrides: dict[str, int] = field(default_factory=dict)  # unit id (text) -> N
    document_codes: list[str] | None = None
    decided_by: str | None = None
    vote_threshold: str | None = None  # storage.council_rules; None: the usual one
    vote_of: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """A dossier document: required or optional, with its accepted types and a note."""

    code: str
    name: str
    per: DocumentScope
    optional: bool = False
    formats: list[str] | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """A campaign step with its own date or counted from another (see CampaignDeadline)."""

    code: str
    title: str
    due: date | None
    due_form: DueForm
    after: str | None
    days: int | None
    working_days: bool
    who: DeadlineWho
    all_units: bool
    unit_ids: list[int]
    reminders: list[int] | None


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """A campaign as the file gives it; launch_at None means "launched when first loaded"."""

    organization_id: int
    code: str
    title: str
    theme: str
    kind: CampaignKind
    start: date
    end: date
    unit_ids: frozenset[int] | None  # None: every unit
    launch_at: datetime | None
    registration_deadline: date | None
    dossier_deadline: date | None
    reminders: tuple[int, ...]
    titles: tuple[TitleSpec, ...]
    awards: tuple[AwardSpec, ...]
    documents: tuple[DocumentSpec, ...]
    deadlines: tuple[DeadlineSpec, ...] = ()
    review_within_working_days: int | None = None
    registration_forms: dict[str, str] = field(default_factory=dict)
    council_quorum: str | None = None  # storage.council_rules; None: the usual one


Row = TypeVar("Row", CampaignTitle, Award, RequiredDocument, CampaignDeadline)


def _sync_children(
    session: AsyncSession,
    existing: Sequence[Row],
    specs: Sequence[Any],
    key: Any,
    make: Any,
) -> bool:
    """Update rows in place by natural key, add new ones, retire missing ones; True if changed."""
    by_key = {key(row): row for row in existing}
    changed = False
    for position, spec in enumerate(specs):
        row = by_key.pop(key(spec), None)
        values = {**_fields(spec), "position": position, "active": True}
        if row is None:
            session.add(make(**values))
            changed = True
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            changed = True
    for row in by_key.values():  # registrations and uploads may point at it: retire, keep
        if row.active:
            row.active = False
            changed = True
    return changed


def _fields(spec: Any) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in spec.__slots__}


async def upsert_campaign(session: AsyncSession, spec: CampaignSpec, now: datetime) -> str:
    """Create or update a campaign in place; returns "added", "updated" or "unchanged"."""
    campaign = await session.scalar(select(Campaign).where(Campaign.code == spec.code))
    outcome = "unchanged"
    values: dict[str, Any] = {
        "organization_id": spec.organization_id,
        "title": spec.title,
        "theme": spec.theme,
        "kind": spec.kind,
        "start": spec.start,
        "end": spec.end,
        "all_units": spec.unit_ids is None,
        "registration_deadline": spec.registration_deadline,
        "dossier_deadline": spec.dossier_deadline,
        "reminders": list(spec.reminders),
        "review_within_working_days": spec.review_within_working_days,
        "registration_forms": dict(spec.registration_forms),
        "council_quorum": spec.council_quorum,
    }
    if spec.launch_at is not None:
        values["launch_at"] = spec.launch_at
    if campaign is None:
        campaign = Campaign(code=spec.code, **{"launch_at": now, **values})
        session.add(campaign)
        await session.flush()
        outcome = "added"
    elif any(getattr(campaign, k) != v for k, v in values.items()):
        for key, value in values.items():
            setattr(campaign, key, value)
        outcome = "updated"
    cid = campaign.id
    current = set(
        await session.scalars(select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == cid))
    )
    wanted = set(spec.unit_ids or ())
    if current != wanted:
        await session.execute(delete(CampaignUnit).where(CampaignUnit.campaign_id == cid))
        session.add_all(CampaignUnit(campaign_id=cid, unit_id=u) for u in sorted(wanted))
        outcome = outcome if outcome != "unchanged" else "updated"
    children = [
        _sync_children(
            session,
            list(
                await session.scalars(select(CampaignTitle).where(CampaignTitle.campaign_id == cid))
            ),
            spec.titles,
            lambda r: (r.target, r.name),
            lambda **v: CampaignTitle(campaign_id=cid, **v),
        ),
        _sync_children(
            session,
            list(await session.scalars(select(Award).where(Award.campaign_id == cid))),
            spec.awards,
            lambda r: r.code,
            lambda **v: Award(campaign_id=cid, **v),
        ),
        _sync_children(
            session,
            list(
                await session.scalars(
                    select(RequiredDocument).where(RequiredDocument.campaign_id == cid)
                )
            ),
            spec.documents,
            lambda r: r.code,
            lambda **v: RequiredDocument(campaign_id=cid, **v),
        ),
        _sync_children(
            session,
            list(
                await session.scalars(
                    select(CampaignDeadline).where(CampaignDeadline.campaign_id == cid)
                )
            ),
            spec.deadlines,
            lambda r: r.code,
            lambda **v: CampaignDeadline(campaign_id=cid, **v),
        ),
    ]
    if any(children) and outcome == "unchanged":
        outcome = "updated"
    await session.flush()
    return outcome


def takes_part(unit_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """SQL condition: the unit is one that reports, and the campaign names it or is for every
    unit of its organisation."""
    named = (
        select(CampaignUnit.campaign_id).where(CampaignUnit.unit_id == unit_id).scalar_subquery()
    )
    org_of_reporting_unit = (
        select(Unit.organization_id).where(Unit.id == unit_id, reporting()).scalar_subquery()
    )
    return or_(
        Campaign.all_units.is_(True) & (Campaign.organization_id == org_of_reporting_unit),
        Campaign.id.in_(named) & org_of_reporting_unit.is_not(None),
    )


# Read by /hoso, /lich, /dangky and /nophoso: built once.
_LAUNCHED_OF_UNIT = (
    select(Campaign)
    .where(takes_part(bindparam("unit_id")), Campaign.launch_at <= bindparam("now"))
    .order_by(Campaign.start, Campaign.code)
)


async def launched_campaigns_of_unit(
    session: AsyncSession, unit_id: int, now: datetime
) -> list[Campaign]:
    """Campaigns this unit takes part in that have been launched, newest deadline last."""
    return list(await session.scalars(_LAUNCHED_OF_UNIT, {"unit_id": unit_id, "now": now}))


async def campaign_for_unit(
    session: AsyncSession, campaign_id: int, unit_id: int, now: datetime
) -> Campaign | None:
    """The launched campaign if this unit takes part in it, else None (never trust a button)."""
    return await session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id, takes_part(unit_id), Campaign.launch_at <= now
        )
    )


async def campaign_by_code(session: AsyncSession, code: str) -> Campaign | None:
    """The campaign with this code, or None."""
    return await session.scalar(select(Campaign).where(Campaign.code == code))


async def all_campaigns(session: AsyncSession, org_id: int | None = None) -> list[Campaign]:
    """Every campaign (of an organisation, if given), by start date."""
    query = select(Campaign).order_by(Campaign.start, Campaign.code)
    if org_id is not None:
        query = query.where(Campaign.organization_id == org_id)
    return list(await session.scalars(query))


async def campaign_unit_ids(session: AsyncSession, campaign: Campaign) -> frozenset[int] | None:
    """The units a campaign names, or None when it is for every unit of its organisation."""
    if campaign.all_units:
        return None
    rows = await session.scalars(
        select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id)
    )
    return frozenset(rows)


async def registration_forms(session: AsyncSession, campaign_id: int) -> dict[str, str]:
    """The names the campaign's document gives its registration forms ({} when it names none)."""
    forms = await session.scalar(
        select(Campaign.registration_forms).where(Campaign.id == campaign_id)
    )
    return dict(forms or {})


async def active_deadlines(session: AsyncSession, campaign_id: int) -> list[CampaignDeadline]:
    """The campaign's current deadlines of its own, in file order."""
    rows = await session.scalars(
        select(CampaignDeadline)
        .where(CampaignDeadline.campaign_id == campaign_id, CampaignDeadline.active.is_(True))
        .order_by(CampaignDeadline.position)
    )
    return list(rows)


async def active_titles(
    session: AsyncSession, campaign_id: int, target: Target
) -> list[CampaignTitle]:
    """The campaign's current titles for collectives or individuals, in file order."""
    rows = await session.scalars(
        select(CampaignTitle)
        .where(
            CampaignTitle.campaign_id == campaign_id,
            CampaignTitle.target == target,
            CampaignTitle.active.is_(True),
        )
        .order_by(CampaignTitle.position)
    )
    return list(rows)


async def participating_units(session: AsyncSession, campaign: Campaign) -> list[Unit]:
    """The units taking part in the campaign, by code: those it names, or every unit of its
    organisation that reports (retired ones included: their history stays)."""
    query = select(Unit).order_by(Unit.code)
    if campaign.all_units:
        query = query.where(Unit.organization_id == campaign.organization_id, reporting())
    else:
        named = select(CampaignUnit.unit_id).where(CampaignUnit.campaign_id == campaign.id)
        query = query.where(Unit.id.in_(named), reporting())
    return list(await session.scalars(query))

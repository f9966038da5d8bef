"""Units: upsert from a data file, look up by code."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Member, Role, Unit, UnitKind


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One unit as a data file describes it."""

    code: str
    name: str
    kind: UnitKind


@dataclass(slots=True)
class LoadCounts:
    """What a load did: rows added, updated and left as they were."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


async def upsert_units(
    session: AsyncSession, organization: str, specs: list[UnitSpec]
) -> LoadCounts:
    """Add new units and update changed ones; units missing from the file are kept."""
    counts = LoadCounts()
    existing = {
        u.code: u
        for u in await session.scalars(select(Unit).where(Unit.code.in_([s.code for s in specs])))
    }
    for spec in specs:
        unit = existing.get(spec.code)
        if unit is None:
            session.add(
                Unit(code=spec.code, name=spec.name, kind=spec.kind, organization=organization)
            )
            counts.added.append(spec.code)
        elif (unit.name, unit.kind, unit.organization) != (spec.name, spec.kind, organization):
            unit.name, unit.kind, unit.organization = spec.name, spec.kind, organization
            counts.updated.append(spec.code)
        else:
            counts.unchanged.append(spec.code)
    await session.flush()
    return counts


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    """The unit with this code, or None."""
    return await session.scalar(select(Unit).where(Unit.code == code))


async def unit_ids_by_code(session: AsyncSession) -> dict[str, int]:
    """Every unit's id by its code."""
    return {code: uid for code, uid in await session.execute(select(Unit.code, Unit.id))}


async def units_without_active_focal(session: AsyncSession) -> list[Unit]:
    """Units that no active focal point has joined yet, by code."""
    has_focal = (
        select(Member.unit_id)
        .where(Member.role == Role.FOCAL, Member.active.is_(True))
        .scalar_subquery()
    )
    rows = await session.scalars(select(Unit).where(Unit.id.not_in(has_focal)).order_by(Unit.code))
    return list(rows)


async def all_units(session: AsyncSession) -> list[Unit]:
    """Every unit, by code."""
    return list(await session.scalars(select(Unit).order_by(Unit.code)))

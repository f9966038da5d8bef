"""Units and groups of an organisation: upsert from a data file, look up by code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    NON_REPORTING_KINDS,
    Member,
    Role,
    Unit,
    UnitGroup,
    UnitGroupMember,
    UnitKind,
)


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One unit as a data file describes it."""

    code: str
    name: str
    kind: UnitKind
    retired: date | None = None
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A group as a data file describes it: its code, name and unit codes."""

    code: str
    name: str
    units: tuple[str, ...]


@dataclass(slots=True)
class LoadCounts:
    """What a load did: rows added, updated and left as they were."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def record(self, outcome: str, label: str) -> None:
        """Count one document or row under "added", "updated" or "unchanged"."""
        getattr(self, outcome).append(label)

    def add(self, other: LoadCounts) -> None:
        """Add another load's counts to these."""
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged


async def upsert_units(session: AsyncSession, org_id: int, specs: list[UnitSpec]) -> LoadCounts:
    """Add new units of the organisation and update changed ones; units missing from the file
    are kept (retire one with `retired:` instead)."""
    counts = LoadCounts()
    existing = {
        u.code: u
        for u in await session.scalars(
            select(Unit).where(
                Unit.organization_id == org_id, Unit.code.in_([s.code for s in specs])
            )
        )
    }
    for spec in specs:
        unit = existing.get(spec.code)
        values = {"name": spec.name, "kind": spec.kind, "retired": spec.retired}
        if unit is None:
            unit = Unit(code=spec.code, organization_id=org_id, **values)
            session.add(unit)
            existing[spec.code] = unit
            counts.added.append(spec.code)
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(unit, key, value)
            counts.updated.append(spec.code)
        else:
            counts.unchanged.append(spec.code)
    await session.flush()
    for spec in specs:  # after every unit has an id: a merger may name a unit of this file
        unit = existing[spec.code]
        target = existing[spec.merged_into].id if spec.merged_into else None
        if unit.merged_into_id != target:
            unit.merged_into_id = target
            if spec.code in counts.unchanged:
                counts.unchanged.remove(spec.code)
                counts.updated.append(spec.code)
    await session.flush()
    return counts


async def upsert_groups(session: AsyncSession, org_id: int, specs: list[GroupSpec]) -> LoadCounts:
    """Create or update the organisation's groups and their members."""
    counts = LoadCounts()
    ids = await unit_ids_by_code(session, org_id)
    existing = {
        g.code: g
        for g in await session.scalars(select(UnitGroup).where(UnitGroup.organization_id == org_id))
    }
    for spec in specs:
        group = existing.get(spec.code)
        wanted = {ids[code] for code in spec.units}
        if group is None:
            group = UnitGroup(organization_id=org_id, code=spec.code, name=spec.name)
            session.add(group)
            await session.flush()
            outcome = "added"
        else:
            outcome = "unchanged" if group.name == spec.name else "updated"
            group.name = spec.name
        current = set(
            await session.scalars(
                select(UnitGroupMember.unit_id).where(UnitGroupMember.group_id == group.id)
            )
        )
        if current != wanted:
            await session.execute(
                delete(UnitGroupMember).where(UnitGroupMember.group_id == group.id)
            )
            session.add_all(UnitGroupMember(group_id=group.id, unit_id=u) for u in sorted(wanted))
            outcome = "updated" if outcome == "unchanged" else outcome
        counts.record(outcome, spec.code)
    await session.flush()
    return counts


async def unit_by_code(session: AsyncSession, code: str, org_id: int | None = None) -> Unit | None:
    """The unit with this code (in this organisation, or the only one with it), or None."""
    query = select(Unit).where(Unit.code == code)
    if org_id is not None:
        query = query.where(Unit.organization_id == org_id)
    found = list(await session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


async def unit_ids_by_code(session: AsyncSession, org_id: int) -> dict[str, int]:
    """Every unit's id by its code, in one organisation."""
    rows = await session.execute(select(Unit.code, Unit.id).where(Unit.organization_id == org_id))
    return {code: uid for code, uid in rows}


async def group_units_by_code(session: AsyncSession, org_id: int) -> dict[str, frozenset[int]]:
    """Every group of the organisation: its code and its units' ids."""
    rows = await session.execute(
        select(UnitGroup.code, UnitGroupMember.unit_id)
        .join(UnitGroupMember, UnitGroupMember.group_id == UnitGroup.id, isouter=True)
        .where(UnitGroup.organization_id == org_id)
    )
    found: dict[str, set[int]] = {}
    for code, unit_id in rows:
        found.setdefault(code, set())
        if unit_id is not None:
            found[code].add(unit_id)
    return {code: frozenset(ids) for code, ids in found.items()}


@dataclass(frozen=True, slots=True)
class GroupOfUnits:
    """A group of an organisation with its units' ids."""

    id: int
    code: str
    name: str
    unit_ids: frozenset[int]


async def groups_of_organization(session: AsyncSession, org_id: int) -> list[GroupOfUnits]:
    """The organisation's groups (emulation clusters and blocks), by code, with their units
    that report (a group chooses an audience of units: the leadership and councils are none)."""
    groups = list(
        await session.scalars(
            select(UnitGroup).where(UnitGroup.organization_id == org_id).order_by(UnitGroup.code)
        )
    )
    rows = await session.execute(
        select(UnitGroupMember.group_id, UnitGroupMember.unit_id)
        .join(Unit, Unit.id == UnitGroupMember.unit_id)
        .where(UnitGroupMember.group_id.in_([g.id for g in groups]), reporting())
    )
    members: dict[int, set[int]] = {}
    for group_id, unit_id in rows:
        members.setdefault(group_id, set()).add(unit_id)
    return [GroupOfUnits(g.id, g.code, g.name, frozenset(members.get(g.id, ()))) for g in groups]


def reporting(today: date | None = None) -> ColumnElement[bool]:
    """SQL condition: a unit that reports (not the leadership, not a council) and, if a day is
    given, not retired by then: the units "every unit" means, the only ones counted in a
    task's progress, reminded, or addressed as units."""
    condition: ColumnElement[bool] = Unit.kind.not_in(sorted(NON_REPORTING_KINDS))
    if today is not None:
        condition = condition & or_(Unit.retired.is_(None), Unit.retired > today)
    return condition


def reports(unit: Unit) -> bool:
    """Whether a unit already read is one that reports: `reporting()` in plain code."""
    return unit.kind not in NON_REPORTING_KINDS


async def units_of_organization(
    session: AsyncSession, org_id: int, *, reporting_only: bool = False
) -> list[Unit]:
    """The organisation's units, by code (only those that report, when asked)."""
    query = select(Unit).where(Unit.organization_id == org_id)
    if reporting_only:
        query = query.where(reporting())
    return list(await session.scalars(query.order_by(Unit.code)))


async def units_without_active_focal(
    session: AsyncSession, org_id: int | None = None
) -> list[Unit]:
    """Units (of an organisation, if given) that no active focal point has joined yet, by code:
    those that report and are current. The leadership's people join as leaders and councils
    need nobody, so neither gets a focal point's invite from `invite --all`."""
    has_focal = (
        select(Member.unit_id)
        .where(Member.role == Role.FOCAL, Member.active.is_(True))
        .scalar_subquery()
    )
    query = select(Unit).where(
        Unit.id.not_in(has_focal),
        Unit.retired.is_(None),
        Unit.merged_into_id.is_(None),
        reporting(),
    )
    if org_id is not None:
        query = query.where(Unit.organization_id == org_id)
    return list(await session.scalars(query.order_by(Unit.code)))


async def all_units(session: AsyncSession, org_id: int | None = None) -> list[Unit]:
    """Every unit (of an organisation, if given), by code."""
    query = select(Unit)
    if org_id is not None:
        query = query.where(Unit.organization_id == org_id)
    return list(await session.scalars(query.order_by(Unit.code, Unit.organization_id)))

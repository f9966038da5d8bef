"""What codes mean within one organisation while a load is applied: the organisation a
document belongs to, unit and group codes, and the warnings and errors met on the way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.datafiles.checks import LoadError, problem
from bot.datafiles.reading import Loaded, Unresolved
from bot.datafiles.schema import ALL
from storage.models import Organization, UnitKind
from storage.organizations import (
    OrganizationSpec,
    all_organizations,
    organization_by_code,
    upsert_organization,
)
from storage.units import (
    GroupSpec,
    LoadCounts,
    UnitSpec,
    all_units,
    group_units_by_code,
    upsert_groups,
    upsert_units,
)

# The district level, and its Phòng Tư pháp, ended on this day (two-level local government).
DISTRICTS_ENDED = date(2025, 7, 1)


@dataclass(slots=True)
class LoadReport:
    """What a load changed, per kind of document, and what it warns about."""

    organizations: LoadCounts = field(default_factory=LoadCounts)
    units: LoadCounts = field(default_factory=LoadCounts)
    groups: LoadCounts = field(default_factory=LoadCounts)
    plans: LoadCounts = field(default_factory=LoadCounts)
    campaigns: LoadCounts = field(default_factory=LoadCounts)
    results: LoadCounts = field(default_factory=LoadCounts)
    calendars: LoadCounts = field(default_factory=LoadCounts)
    rules: LoadCounts = field(default_factory=LoadCounts)
    warnings: list[LoadError] = field(default_factory=list)


class LoadRejected(Exception):
    """Raised inside the write transaction when references do not resolve: nothing is written."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(slots=True)
class Scope:
    """What codes mean within one organisation."""

    org: Organization
    units: dict[str, int]
    groups: dict[str, frozenset[int]]
    kinds: dict[int, tuple[str, UnitKind, date | None]]  # id -> (code, kind, retired)


class Resolver:
    """Organisations and codes of a load, resolved once each; errors and warnings collected."""

    def __init__(self, session: AsyncSession, tz: ZoneInfo, now: datetime, replace: bool) -> None:
        self.session, self.tz, self.now, self.replace = session, tz, now, replace
        self.report = LoadReport()
        self.errors: list[LoadError] = []
        self.file_orgs: dict[str, set[int]] = {}
        self.scopes: dict[int, Scope] = {}
        # What documents with errors would define: not reported again as unknown.
        self.unresolved = Unresolved()

    def error(self, file: str, entry: str, field_name: str, name: str, **values: object) -> None:
        self.errors.append(LoadError(file, entry, field_name, problem(name, **values)))

    def warn(self, file: str, entry: str, field_name: str, name: str, **values: object) -> None:
        self.report.warnings.append(LoadError(file, entry, field_name, problem(name, **values)))

    async def units(self, loaded: Loaded[object]) -> None:
        doc = loaded.body
        org_entry = doc.organization  # type: ignore[attr-defined]
        spec = (
            OrganizationSpec(None, org_entry)
            if isinstance(org_entry, str)
            else OrganizationSpec(
                org_entry.code, org_entry.name, org_entry.office, org_entry.head, org_entry.short
            )
        )
        org, outcome = await upsert_organization(self.session, spec)
        self.report.organizations.record(outcome, org.code)
        self.file_orgs.setdefault(loaded.file, set()).add(org.id)
        units = [
            UnitSpec(u.code, u.name, u.kind, u.retired, u.merged_into)
            for u in doc.units  # type: ignore[attr-defined]
        ]
        self.report.units.add(await upsert_units(self.session, org.id, units))
        groups = [
            GroupSpec(g.code, g.name, tuple(g.units))
            for g in doc.groups  # type: ignore[attr-defined]
        ]
        if groups:
            self.report.groups.add(await upsert_groups(self.session, org.id, groups))
        self.scopes.pop(org.id, None)

    async def scope(self, org: Organization) -> Scope:
        if org.id not in self.scopes:
            units = await all_units(self.session, org.id)
            self.scopes[org.id] = Scope(
                org,
                {u.code: u.id for u in units},
                await group_units_by_code(self.session, org.id),
                {u.id: (u.code, u.kind, u.retired) for u in units},
            )
        return self.scopes[org.id]

    async def organization(self, file: str, entry: str, code: str | None) -> Organization | None:
        """The organisation a plan or campaign belongs to (see the module's docstring)."""
        if code is not None:
            org = await organization_by_code(self.session, code)
            if org is None and code not in self.unresolved.organizations:
                known = ", ".join(o.code for o in await all_organizations(self.session))
                self.error(
                    file, entry, "organization", "unknown_organization", code=code, known=known
                )
            return org
        candidates = self.file_orgs.get(file) or (
            set().union(*self.file_orgs.values()) if self.file_orgs else set()
        )
        stored = await all_organizations(self.session)
        if len(candidates) == 1:
            only = next(iter(candidates))
            return next(o for o in stored if o.id == only)
        if not candidates and len(stored) == 1:
            return stored[0]
        if self.unresolved.organization_files:
            return None  # a units document with errors may name it: its errors say enough
        known = ", ".join(o.code for o in stored) or "-"
        self.error(file, entry, "organization", "organization_needed", known=known)
        return None

    def resolve(
        self, scope: Scope, codes: Iterable[str], file: str, entry: str, name: str
    ) -> set[int]:
        """Unit and group codes to unit ids; ALL is left to the caller."""
        ids: set[int] = set()
        for code in codes:
            if code == ALL:
                continue
            if code in scope.units:
                ids.add(scope.units[code])
            elif code in scope.groups:
                ids |= scope.groups[code]
            elif code not in self.unresolved.units:
                self.error(file, entry, name, "unknown_unit", code=code)
        return ids

    def warn_districts(
        self, scope: Scope, ids: Iterable[int], when: date, file: str, entry: str, name: str
    ) -> None:
        """A district justice office named for work after the district level ended."""
        if when < DISTRICTS_ENDED:
            return
        for unit_id in sorted(ids):
            code, kind, retired = scope.kinds[unit_id]
            if kind is UnitKind.PHONG_TU_PHAP_HUYEN and (retired is None or retired > when):
                self.warn(file, entry, name, "district_after_2025", code=code)

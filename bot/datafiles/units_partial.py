"""The valid part of a units document that has errors: its organisation and every unit and
group that is right on its own. A load with errors is checked against it, so that a plan naming
a good unit of a file with one bad entry is not reported for it; such a load is never written."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError

from bot.datafiles.schema import ALL, GroupEntry, Name, OrganizationEntry, UnitEntry, UnitsDocument

_ORGANIZATION: TypeAdapter[OrganizationEntry | str] = TypeAdapter(OrganizationEntry | Name)


def _entries(doc: dict[str, Any], section: str) -> list[Any]:
    entries = doc.get(section)
    return entries if isinstance(entries, list) else []


def _code(entry: Any) -> str | None:
    code = entry.get("code") if isinstance(entry, dict) else None
    return code if isinstance(code, str) else None


def partial_units(doc: dict[str, Any]) -> tuple[UnitsDocument | None, set[str]]:
    """The document without its wrong entries (None: its organisation is wrong), and the codes
    of the entries left out."""
    dropped: set[str] = set()
    try:
        organization = _ORGANIZATION.validate_python(doc.get("organization"))
    except ValidationError:
        every = [_code(e) for s in ("units", "groups") for e in _entries(doc, s)]
        return None, {c for c in every if c}
    units: dict[str, UnitEntry] = {}
    for raw in _entries(doc, "units"):
        try:
            unit = UnitEntry.model_validate(raw)
        except ValidationError:
            dropped |= {c for c in [_code(raw)] if c}
            continue
        if unit.code in units or unit.code.upper() == ALL:
            dropped.add(unit.code)
        else:
            units[unit.code] = unit
    units = {
        code: u if u.merged_into in units else u.model_copy(update={"merged_into": None})
        for code, u in units.items()
    }
    groups: dict[str, GroupEntry] = {}
    for raw in _entries(doc, "groups"):
        try:
            group = GroupEntry.model_validate(raw)
        except ValidationError:
            dropped |= {c for c in [_code(raw)] if c}
            continue
        members = [c for c in group.units if c in units]
        if group.code in units or group.code in groups or group.code.upper() == ALL or not members:
            dropped.add(group.code)
        else:
            groups[group.code] = group.model_copy(update={"units": members})
    partial = UnitsDocument.model_construct(
        organization=organization, units=list(units.values()), groups=list(groups.values())
    )
    return partial, dropped

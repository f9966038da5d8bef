"""The valid part of a document that has errors: what is right in it on its own is checked
against the rest of the load and the database in the same run, so that the operator fixes each
file once; a load with errors is never written.

A units document keeps its organisation and every unit and group right on its own (a plan naming
a good unit of a file with one bad entry is not reported for it). A plan, campaign or results
document keeps its entries (tasks; awards, documents, deadlines; items) that have no error,
without the codes of a units list that are not codes; an entry left out is not reported again
as, say, an unknown reference."""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.datafiles.checks import WHOLE, Kept
from bot.datafiles.errors import real_path
from bot.datafiles.schema import (
    ALL,
    AwardEntry,
    CampaignBody,
    CampaignDocument,
    DeadlineEntry,
    DocumentEntry,
    GroupEntry,
    Name,
    OrganizationEntry,
    PlanBody,
    PlanDocument,
    ResultEntry,
    ResultsBody,
    ResultsDocument,
    TaskEntry,
    UnitEntry,
    UnitsDocument,
)

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


class Part(NamedTuple):
    """A plan, campaign or results document as far as it is right, and what was left out."""

    document: PlanDocument | CampaignDocument | ResultsDocument
    kept: Kept = WHOLE


# Each kind's body, and its sections of entries that may be left out one by one.
_BODIES: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "plan": (PlanDocument, PlanBody),
    "campaign": (CampaignDocument, CampaignBody),
    "results": (ResultsDocument, ResultsBody),
}
SECTIONS: dict[str, dict[str, type[BaseModel]]] = {
    "plan": {"tasks": TaskEntry},
    "campaign": {"awards": AwardEntry, "documents": DocumentEntry, "deadlines": DeadlineEntry},
    "results": {"items": ResultEntry},
}


def _without_bad_codes(raw: Any, exc: ValidationError) -> Any | None:
    """`raw` without the codes of its units list that are wrong (None: something else is)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("units"), list):
        return None
    bad = set()
    for err in exc.errors():
        path, _ = real_path(raw, tuple(err["loc"]))
        if len(path) < 2 or path[0] != "units" or not isinstance(path[1], int):
            return None
        bad.add(path[1])
    return {**raw, "units": [c for j, c in enumerate(raw["units"]) if j not in bad]}


def _valid(model: type[BaseModel], raw: Any) -> Any | None:
    """`raw` as far as it is right for `model`, perhaps without some codes; None: it is not."""
    try:
        model.model_validate(raw)
        return raw
    except ValidationError as exc:
        cut = _without_bad_codes(raw, exc)
    if cut is None:
        return None
    try:
        model.model_validate(cut)
        return cut
    except ValidationError:
        return None


def partial_document(kind: str, doc: dict[str, Any]) -> Part | None:
    """A plan, campaign or results document without its wrong entries (None: what is wrong is
    not in an entry, or no entry is left where one is needed)."""
    body = doc.get(kind)
    if not isinstance(body, dict):
        return None
    positions: dict[str, tuple[int, ...]] = {}
    dropped: dict[str, frozenset[str | None]] = {}
    filtered = dict(body)
    for section, model in SECTIONS[kind].items():
        entries = body.get(section)
        if not isinstance(entries, list):
            continue
        valid = [(i, _valid(model, raw)) for i, raw in enumerate(entries)]
        filtered[section] = [raw for _, raw in valid if raw is not None]
        positions[section] = tuple(i for i, raw in valid if raw is not None)
        dropped[section] = frozenset(
            code if isinstance(code, str) else None
            for (_, raw), entry in zip(valid, entries, strict=True)
            if raw is None
            for code in [entry.get("code") if isinstance(entry, dict) else None]
        )
    document_model, body_model = _BODIES[kind]
    right = _valid(body_model, filtered)
    if right is None:
        return None
    try:
        document = document_model.model_validate({**doc, kind: right})
    except ValidationError:
        return None
    units_cut = right.get("units") != filtered.get("units")
    return Part(document, Kept(positions, dropped, units_cut))  # type: ignore[arg-type]

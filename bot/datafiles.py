"""Data files (PRODUCT §6): read YAML, validate everything, then write it in one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from messages import render_text
from storage.models import UnitKind
from storage.units import LoadCounts, UnitSpec, upsert_units

UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,20}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitEntry(_Strict):
    """One unit of a units file."""

    code: UnitCode
    name: Name
    kind: UnitKind


class UnitsDocument(_Strict):
    """A units file: the organization and its units."""

    organization: Name
    units: list[UnitEntry]


@dataclass(frozen=True, slots=True)
class LoadError:
    """One problem, naming the file, the entry and the field."""

    file: str
    entry: str
    field: str
    problem: str

    def __str__(self) -> str:
        return render_text(
            "cli/load_error",
            file=self.file,
            entry=self.entry,
            field=self.field,
            problem=self.problem,
        )


@dataclass(slots=True)
class LoadSet:
    """Every valid document of the files given, ready to write."""

    units: list[tuple[str, UnitsDocument]] = field(default_factory=list)


@dataclass(slots=True)
class LoadReport:
    """What a load changed, per kind of document."""

    units: LoadCounts = field(default_factory=LoadCounts)


_KINDS = {"units": UnitsDocument}
_RESERVED_CODES = {"ALL"}


def read_files(paths: Iterable[Path]) -> tuple[LoadSet, list[LoadError]]:
    """Parse and validate every document of every file; nothing is written."""
    result, errors = LoadSet(), []
    for path in paths:
        name = str(path)
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            errors.append(LoadError(name, "-", "-", render_text("problems/not_found")))
            continue
        except UnicodeDecodeError:
            errors.append(LoadError(name, "-", "-", render_text("problems/not_utf8")))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (
                render_text("problems/position", line=mark.line + 1, column=mark.column + 1)
                if mark
                else "-"
            )
            errors.append(
                LoadError(name, where, "-", render_text("problems/yaml", detail=str(exc)[:200]))
            )
            continue
        for index, doc in enumerate(d for d in documents if d is not None):
            errors.extend(_read_document(name, index, doc, result))
    return result, errors


def _read_document(file: str, index: int, doc: Any, into: LoadSet) -> list[LoadError]:
    label = render_text("problems/document", number=index + 1)
    if not isinstance(doc, dict):
        return [LoadError(file, label, "-", render_text("problems/unknown_kind"))]
    kind = "units" if "units" in doc else next((k for k in doc if k in _KINDS), None)
    if kind is None:
        return [LoadError(file, label, "-", render_text("problems/unknown_kind"))]
    problems = _check_unit_codes(file, doc.get("units"))
    try:
        parsed = _KINDS[kind].model_validate(doc)
    except ValidationError as exc:
        return problems + [_pydantic_error(file, doc, err) for err in exc.errors()]
    if not problems:
        into.units.append((file, parsed))
    return problems


def _check_unit_codes(file: str, units: Any) -> list[LoadError]:
    """Duplicate and reserved codes, checked on the raw entries so every error shows at once."""
    if not isinstance(units, list):
        return []
    seen: dict[str, int] = {}
    problems = []
    for i, unit in enumerate(units):
        code = unit.get("code") if isinstance(unit, dict) else None
        if not isinstance(code, str):
            continue
        entry = _entry("units", i, code)
        if code.upper() in _RESERVED_CODES:
            problems.append(LoadError(file, entry, "code", render_text("problems/reserved_code")))
        elif code in seen:
            duplicate = render_text("problems/duplicate", other=seen[code] + 1)
            problems.append(LoadError(file, entry, "code", duplicate))
        seen.setdefault(code, i)
    return problems


def _entry(section: str, index: int, code: object | None) -> str:
    suffix = f" ({code})" if code else ""
    return f"{section}[{index + 1}]{suffix}"


def _pydantic_error(file: str, doc: dict[str, Any], err: Any) -> LoadError:
    loc = list(err["loc"])
    # The entry is the list item (units[3] …); the field is what is left of the location.
    if len(loc) >= 2 and isinstance(loc[1], int):
        section, index = str(loc[0]), loc[1]
        item = (doc.get(section) or [None] * (index + 1))[index]
        code = item.get("code") if isinstance(item, dict) else None
        entry, rest = _entry(section, index, code), loc[2:]
    else:
        entry, rest = "-", loc
    field_name = ".".join(str(p) for p in rest) or "-"
    ctx = err.get("ctx") or {}
    expected = ctx.get("expected", "")
    problem = render_text(
        "problems/pydantic", kind=err["type"], expected=expected, detail=err.get("msg", "")
    )
    return LoadError(file, entry, field_name, problem)


async def apply(session: AsyncSession, load: LoadSet) -> LoadReport:
    """Write every document; the caller's transaction makes it all or nothing."""
    report = LoadReport()
    for _file, doc in load.units:
        specs = [UnitSpec(code=u.code, name=u.name, kind=u.kind) for u in doc.units]
        counts = await upsert_units(session, doc.organization, specs)
        report.units.added += counts.added
        report.units.updated += counts.updated
        report.units.unchanged += counts.unchanged
    return report

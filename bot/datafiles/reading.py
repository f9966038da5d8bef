"""Reading data files: YAML 1.2, every document validated, every problem named; nothing written."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.datafiles.calendar_documents import CalendarBody, CalendarDocument, check_calendar
from bot.datafiles.checks import (
    LoadError,
    check_campaign,
    check_duplicates_across_files,
    check_plan,
    check_results,
    check_units,
    problem,
)
from bot.datafiles.schema import (
    KINDS,
    CampaignBody,
    CampaignDocument,
    PlanBody,
    PlanDocument,
    ResultsBody,
    ResultsDocument,
    UnitsDocument,
)
from messages import render_text

T = TypeVar("T")


class Loaded(NamedTuple, Generic[T]):
    """One valid document: the file it came from and the organisation it names, if any."""

    file: str
    body: T
    organization: str | None = None


@dataclass(slots=True)
class LoadSet:
    """Every valid document of the files given, ready to write."""

    units: list[Loaded[UnitsDocument]] = field(default_factory=list)
    plans: list[Loaded[PlanBody]] = field(default_factory=list)
    campaigns: list[Loaded[CampaignBody]] = field(default_factory=list)
    results: list[Loaded[ResultsBody]] = field(default_factory=list)
    calendars: list[Loaded[CalendarBody]] = field(default_factory=list)


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans (a task's `no: 1` stays the key "no") and dates left as
    text, so pydantic parses them and names the field of a date like 2026-02-30."""


_DROPPED_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


# Every kind of document, by the top-level key that names it.
DOCUMENT_KINDS: dict[str, type[BaseModel]] = {**KINDS, "calendar": CalendarDocument}


def read_files(paths: Iterable[Path]) -> tuple[LoadSet, list[LoadError]]:
    """Parse and validate every document of every file; nothing is written."""
    result, errors = LoadSet(), []
    for path in paths:
        name = str(path)
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader))
        except (FileNotFoundError, IsADirectoryError):
            errors.append(LoadError(name, "-", "-", problem("not_found")))
            continue
        except UnicodeDecodeError:
            errors.append(LoadError(name, "-", "-", problem("not_utf8")))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = (
                render_text("problems/position", line=mark.line + 1, column=mark.column + 1)
                if mark
                else "-"
            )
            errors.append(LoadError(name, where, "-", problem("yaml", detail=str(exc)[:200])))
            continue
        for index, doc in enumerate(d for d in documents if d is not None):
            errors.extend(_read_document(name, index, doc, result))
    errors.extend(check_duplicates_across_files(result))
    return result, errors


def _kind_of(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    return next((k for k in DOCUMENT_KINDS if k in doc), None)


def _read_document(file: str, index: int, doc: Any, into: LoadSet) -> list[LoadError]:
    kind = _kind_of(doc)
    if kind is None:
        label = render_text("problems/document", number=index + 1)
        return [LoadError(file, label, "-", problem("unknown_kind"))]
    model = DOCUMENT_KINDS[kind]
    problems = check_units(file, doc) if kind == "units" else []
    try:
        parsed = model.model_validate(doc)
    except ValidationError as exc:
        return problems + [_pydantic_error(file, doc, err) for err in exc.errors()]
    if isinstance(parsed, UnitsDocument):
        if not problems:
            into.units.append(Loaded(file, parsed))
    elif isinstance(parsed, PlanDocument):
        problems += check_plan(file, parsed.plan)
        org = parsed.plan.organization or parsed.organization
        if not problems:
            into.plans.append(Loaded(file, parsed.plan, org))
    elif isinstance(parsed, CampaignDocument):
        problems += check_campaign(file, parsed.campaign)
        org = parsed.campaign.organization or parsed.organization
        if not problems:
            into.campaigns.append(Loaded(file, parsed.campaign, org))
    elif isinstance(parsed, ResultsDocument):
        problems += check_results(file, parsed.results)
        if not problems:
            into.results.append(Loaded(file, parsed.results, parsed.organization))
    elif isinstance(parsed, CalendarDocument):
        earlier = [(c.file, c.body) for c in into.calendars]
        problems += check_calendar(file, parsed.calendar, earlier)
        if not problems:
            into.calendars.append(Loaded(file, parsed.calendar))
    return problems


def _ident(node: Any) -> str:
    if isinstance(node, dict):
        for key in ("code", "no", "year"):
            if node.get(key) not in (None, ""):
                return f" ({node[key]})"
    return ""


def _pydantic_error(file: str, doc: dict[str, Any], err: Any) -> LoadError:
    """Name the entry (the innermost list item, with its code) and the field (what is left)."""
    loc = list(err["loc"])
    ints = [i for i, part in enumerate(loc) if isinstance(part, int)]
    cut = ints[-1] + 1 if ints else min(1, len(loc))
    node: Any = doc
    parts: list[str] = []
    for i, part in enumerate(loc[:cut]):
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            parts[-1] += f"[{part + 1}]{_ident(node)}"
        else:
            node = node.get(part) if isinstance(node, dict) else None
            parts.append(str(part) + (_ident(node) if i == 0 else ""))
    entry = ", ".join(parts) or "-"
    if entry in {"units", "plan", "campaign"} and not ints and len(loc) == 1:
        entry, rest = "-", loc
    else:
        rest = loc[cut:]
    hidden = ("str", "TitleEntry", "OrganizationEntry", "date", "function", "literal", "int")
    # Past the field itself, a part may name the member of a union that failed: not a field.
    shown = [str(p) for i, p in enumerate(rest) if i == 0 or not str(p).startswith(hidden)]
    field_name = ".".join(shown) or "-"
    ctx = err.get("ctx") or {}
    text = render_text(
        "problems/pydantic",
        kind=err["type"],
        expected=ctx.get("expected", ""),
        detail=err.get("msg", ""),
    )
    return LoadError(file, entry, field_name, text)

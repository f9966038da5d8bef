"""Reading data files: YAML 1.2, every document validated, every problem named; nothing written."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.datafiles.calendar_documents import CalendarBody, CalendarDocument, check_calendar
from bot.datafiles.checks import (
    WHOLE,
    Kept,
    LoadError,
    check_campaign,
    check_duplicates_across_files,
    check_plan,
    check_results,
    check_units,
    problem,
)
from bot.datafiles.errors import pydantic_errors, yaml_error
from bot.datafiles.partial import Part, partial_document, partial_units
from bot.datafiles.schema import (
    KINDS,
    CampaignBody,
    PlanBody,
    ResultsBody,
    UnitsDocument,
)
from messages import render_text
from storage.eligibility import RulesDocument

T = TypeVar("T")


class Loaded(NamedTuple, Generic[T]):
    """One valid document (or the valid part of one with errors): the file it came from, the
    organisation it names, if any, and what of it is kept."""

    file: str
    body: T
    organization: str | None = None
    kept: Kept = WHOLE


@dataclass(slots=True)
class Unresolved:
    """What documents with errors would define once fixed: references to it from other
    documents are not reported as unknown (the documents' own errors are)."""

    units: set[str] = field(default_factory=set)
    organizations: set[str] = field(default_factory=set)
    campaigns: set[str] = field(default_factory=set)
    # (campaign, award) left out of a campaign document with errors; award None: any.
    awards: set[tuple[str, str | None]] = field(default_factory=set)
    # Files whose units document names an organisation that could not be read.
    organization_files: set[str] = field(default_factory=set)


@dataclass(slots=True)
class LoadSet:
    """Every valid document of the files given, ready to write. Where there were errors, it
    also holds the valid part of each document with errors (bot.datafiles.partial), so that it
    and the rest of the load can be checked: such a load is checked, never written."""

    units: list[Loaded[UnitsDocument]] = field(default_factory=list)
    plans: list[Loaded[PlanBody]] = field(default_factory=list)
    campaigns: list[Loaded[CampaignBody]] = field(default_factory=list)
    results: list[Loaded[ResultsBody]] = field(default_factory=list)
    calendars: list[Loaded[CalendarBody]] = field(default_factory=list)
    rules: list[Loaded[RulesDocument]] = field(default_factory=list)
    unresolved: Unresolved = field(default_factory=Unresolved)


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
DOCUMENT_KINDS: dict[str, type[BaseModel]] = {
    **KINDS,
    "calendar": CalendarDocument,
    "rules": RulesDocument,
}


def read_files(paths: Iterable[Path]) -> tuple[LoadSet, list[LoadError]]:
    """Parse and validate every document of every file; nothing is written."""
    result, errors = LoadSet(), []
    for path in paths:
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
            documents = list(yaml.load_all(text, Loader=_Yaml12Loader))
        except IsADirectoryError:
            errors.append(LoadError(name, "", "", _said("is_directory", path=name)))
            continue
        except FileNotFoundError:
            errors.append(LoadError(name, "", "", _said("not_found")))
            continue
        except PermissionError:
            errors.append(LoadError(name, "", "", _said("not_readable")))
            continue
        except UnicodeDecodeError:
            errors.append(LoadError(name, "", "", _said("not_utf8")))
            continue
        except yaml.YAMLError as exc:
            errors.append(yaml_error(name, exc))
            continue
        present = [d for d in documents if d is not None]
        if not present:
            errors.append(
                LoadError(name, "", "", _said("no_document" if text.strip() else "empty"))
            )
        for index, doc in enumerate(present):
            errors.extend(_read_document(name, index, doc, result))
    errors.extend(check_duplicates_across_files(result))
    return result, errors


def _said(name: str, **values: Any) -> str:
    return render_text(f"cli/load/{name}", **values)


def _kind_of(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    return next((k for k in DOCUMENT_KINDS if k in doc), None)


def _read_document(file: str, index: int, doc: Any, into: LoadSet) -> list[LoadError]:
    kind = _kind_of(doc)
    if kind is None:
        label = _said("document", number=index + 1)
        return [LoadError(file, label, "", problem("unknown_kind"))]
    model = DOCUMENT_KINDS[kind]
    problems = check_units(file, doc) if kind == "units" else []
    try:
        parsed = model.model_validate(doc)
    except ValidationError as exc:
        problems += pydantic_errors(file, doc, exc)
        parsed = None
    if kind == "units" and (parsed is None or problems):
        _unresolved_units(file, doc, into)
    if isinstance(parsed, UnitsDocument):
        if not problems:
            into.units.append(Loaded(file, parsed))
    elif isinstance(parsed, CalendarDocument):
        earlier = [(c.file, c.body) for c in into.calendars]
        problems += check_calendar(file, parsed.calendar, earlier)
        if not problems:
            into.calendars.append(Loaded(file, parsed.calendar))
    elif isinstance(parsed, RulesDocument):
        if not problems:
            into.rules.append(Loaded(file, parsed, parsed.organization))
    elif kind in _CHECKS:
        problems += _read_part(file, kind, doc, parsed, into)
    return problems


_CHECKS: dict[str, Callable[[str, Any, Kept], list[LoadError]]] = {
    "plan": check_plan,
    "campaign": check_campaign,
    "results": check_results,
}


def _read_part(
    file: str, kind: str, doc: dict[str, Any], parsed: Any, into: LoadSet
) -> list[LoadError]:
    """A plan, campaign or results document's own checks; what is right in it joins the load
    (all of it, or the part bot.datafiles.partial keeps where there are errors)."""
    part = Part(parsed) if parsed is not None else partial_document(kind, doc)
    if part is None:
        _unresolved(kind, doc, into.unresolved)
        return []
    body, org = getattr(part.document, kind), part.document.organization
    problems = _CHECKS[kind](file, body, part.kept)
    if isinstance(body, PlanBody):
        into.plans.append(Loaded(file, body, body.organization or org, part.kept))
    elif isinstance(body, CampaignBody):
        if problems:  # its references are checked; the results naming it are not
            into.unresolved.campaigns.add(body.code)
        left_out = part.kept.dropped.get("awards", frozenset())
        into.unresolved.awards |= {(body.code, award) for award in left_out}
        into.campaigns.append(Loaded(file, body, body.organization or org, part.kept))
    else:
        into.results.append(Loaded(file, body, org, part.kept))
    return problems


def _unresolved_units(file: str, doc: dict[str, Any], into: LoadSet) -> None:
    """The valid part of a units document with errors joins the load (to be checked against);
    what it leaves out is unresolved."""
    partial, dropped = partial_units(doc)
    into.unresolved.units |= dropped
    if partial is None:
        into.unresolved.organization_files.add(file)
        org = doc.get("organization")
        code = org.get("code") if isinstance(org, dict) else None
        if isinstance(code, str):
            into.unresolved.organizations.add(code)
    else:
        into.units.append(Loaded(file, partial))


def _unresolved(kind: str, doc: dict[str, Any], unresolved: Unresolved) -> None:
    """A campaign whose document has errors: results may still name it."""
    body = doc.get(kind)
    code = body.get("code") if isinstance(body, dict) else None
    if kind == "campaign" and isinstance(code, str):
        unresolved.campaigns.add(code)

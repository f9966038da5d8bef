"""Data files (PRODUCT §6): read YAML, validate everything, then write it in one transaction."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from messages import render_text
from storage.campaigns import (
    AwardSpec,
    CampaignSpec,
    DocumentSpec,
    TitleSpec,
    campaign_by_code,
    upsert_campaign,
)
from storage.dossiers import active_awards
from storage.models import CampaignKind, DocumentScope, Target, UnitKind
from storage.plans import PlanSpec, TaskSpec, upsert_plan
from storage.results import ResultItemSpec, upsert_result
from storage.units import LoadCounts, UnitSpec, unit_ids_by_code, upsert_units

ALL = "ALL"
UnitCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,20}$")]
CampaignCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,19}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


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


class TaskEntry(_Strict):
    """One task of an annual plan."""

    no: int = Field(ge=1, le=999)
    quarter: int = Field(ge=1, le=4)
    content: LongText
    units: list[UnitCode] = Field(min_length=1)
    lead: UnitCode | None = None
    due: date | None = None


class PlanBody(_Strict):
    """The body of a plan document."""

    year: int = Field(ge=2000, le=2100)
    title: Name
    tasks: list[TaskEntry] = Field(min_length=1)


class PlanDocument(_Strict):
    """An annual plan file."""

    plan: PlanBody


class TitleEntry(_Strict):
    """A title given with its usual abbreviation."""

    name: Name
    short: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20)]


class Titles(_Strict):
    """The titles units may register for."""

    tap_the: list[Name | TitleEntry] = []
    ca_nhan: list[Name | TitleEntry] = []


class AwardEntry(_Strict):
    """An award form with its quota."""

    code: ItemCode
    name: Name
    target: Target
    quota: int | None = Field(default=None, ge=1, le=100_000)


class DocumentEntry(_Strict):
    """A required dossier document."""

    code: ItemCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    per: DocumentScope


class CampaignBody(_Strict):
    """The body of a campaign document."""

    code: CampaignCode
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    theme: Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)] = ""
    kind: CampaignKind
    start: date
    end: date
    units: Literal["ALL"] | list[UnitCode] = ALL
    launch_at: datetime | None = None
    registration_deadline: date | None = None
    dossier_deadline: date | None = None
    reminders: list[int] = Field(default=[7, 3, 1, 0], max_length=10)
    titles: Titles = Titles()
    awards: list[AwardEntry] = []
    documents: list[DocumentEntry] = []


class CampaignDocument(_Strict):
    """A campaign file."""

    campaign: CampaignBody


class ResultEntry(_Strict):
    """One award the council granted."""

    unit: UnitCode
    nominee: Name
    award: ItemCode


class ResultsBody(_Strict):
    """The body of a council results document."""

    campaign: CampaignCode
    decision: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    publish_at: datetime
    items: list[ResultEntry] = Field(min_length=1)


class ResultsDocument(_Strict):
    """A council results file."""

    results: ResultsBody


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


class LoadRejected(Exception):
    """Raised inside the write transaction when references do not resolve: nothing is written."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


@dataclass(slots=True)
class LoadSet:
    """Every valid document of the files given, ready to write."""

    units: list[tuple[str, UnitsDocument]] = field(default_factory=list)
    plans: list[tuple[str, PlanBody]] = field(default_factory=list)
    campaigns: list[tuple[str, CampaignBody]] = field(default_factory=list)
    results: list[tuple[str, ResultsBody]] = field(default_factory=list)


@dataclass(slots=True)
class LoadReport:
    """What a load changed, per kind of document."""

    units: LoadCounts = field(default_factory=LoadCounts)
    plans: LoadCounts = field(default_factory=LoadCounts)
    campaigns: LoadCounts = field(default_factory=LoadCounts)
    results: LoadCounts = field(default_factory=LoadCounts)


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

_KINDS: dict[str, type[BaseModel]] = {
    "units": UnitsDocument,
    "plan": PlanDocument,
    "campaign": CampaignDocument,
    "results": ResultsDocument,
}


def read_files(paths: Iterable[Path]) -> tuple[LoadSet, list[LoadError]]:
    """Parse and validate every document of every file; nothing is written."""
    result, errors = LoadSet(), []
    for path in paths:
        name = str(path)
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Yaml12Loader))
        except (FileNotFoundError, IsADirectoryError):
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
    errors.extend(_check_duplicates_across_files(result))
    return result, errors


def _read_document(file: str, index: int, doc: Any, into: LoadSet) -> list[LoadError]:
    label = render_text("problems/document", number=index + 1)
    kind = next((k for k in _KINDS if k in doc), None) if isinstance(doc, dict) else None
    if kind is None:
        return [LoadError(file, label, "-", render_text("problems/unknown_kind"))]
    problems = _check_unit_codes(file, doc.get("units")) if kind == "units" else []
    try:
        parsed = _KINDS[kind].model_validate(doc)
    except ValidationError as exc:
        return problems + [_pydantic_error(file, doc, err) for err in exc.errors()]
    if isinstance(parsed, PlanDocument):
        problems += _check_plan(file, parsed.plan)
        if not problems:
            into.plans.append((file, parsed.plan))
    elif isinstance(parsed, CampaignDocument):
        problems += _check_campaign(file, parsed.campaign)
        if not problems:
            into.campaigns.append((file, parsed.campaign))
    elif isinstance(parsed, ResultsDocument):
        if parsed.results.publish_at.tzinfo is not None:
            problems.append(
                LoadError(
                    file,
                    f"results ({parsed.results.campaign})",
                    "publish_at",
                    _problem("local_time_only"),
                )
            )
        else:
            into.results.append((file, parsed.results))
    elif isinstance(parsed, UnitsDocument) and not problems:
        into.units.append((file, parsed))
    return problems


def _problem(name: str, **values: Any) -> str:
    return render_text(f"problems/{name}", **values)


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
        if code.upper() == ALL:
            problems.append(LoadError(file, entry, "code", _problem("reserved_code")))
        elif code in seen:
            problems.append(
                LoadError(file, entry, "code", _problem("duplicate", other=seen[code] + 1))
            )
        seen.setdefault(code, i)
    return problems


def quarter_end(year: int, quarter: int) -> date:
    """The last day of a quarter."""
    month = quarter * 3
    return date(year, month, calendar.monthrange(year, month)[1])


def _check_plan(file: str, plan: PlanBody) -> list[LoadError]:
    problems = []
    seen: dict[int, int] = {}
    for i, task in enumerate(plan.tasks):
        entry = f"plan ({plan.year}), " + _entry("tasks", i, task.no)
        if task.no in seen:
            problems.append(
                LoadError(file, entry, "no", _problem("duplicate", other=seen[task.no] + 1))
            )
        seen.setdefault(task.no, i)
        if task.due is not None and task.due.year != plan.year:
            problems.append(
                LoadError(file, entry, "due", _problem("due_outside_year", year=plan.year))
            )
    return problems


def _check_campaign(file: str, c: CampaignBody) -> list[LoadError]:
    entry = f"campaign ({c.code})"
    problems = []
    if c.end < c.start:
        problems.append(LoadError(file, entry, "end", _problem("end_before_start")))
    for name in ("registration_deadline", "dossier_deadline", "launch_at"):
        value = getattr(c, name)
        day = value.date() if isinstance(value, datetime) else value
        if day is not None and not c.start <= day <= c.end:
            problems.append(
                LoadError(file, entry, name, _problem("outside_period", start=c.start, end=c.end))
            )
    if c.launch_at is not None and c.launch_at.tzinfo is not None:
        problems.append(LoadError(file, entry, "launch_at", _problem("local_time_only")))
    if any(not 0 <= r <= 90 for r in c.reminders) or len(set(c.reminders)) != len(c.reminders):
        problems.append(LoadError(file, entry, "reminders", _problem("reminders")))
    for section, items in (("awards", c.awards), ("documents", c.documents)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.code in seen:
                problems.append(
                    LoadError(
                        file,
                        f"{entry}, " + _entry(section, i, item.code),
                        "code",
                        _problem("duplicate", other=seen[item.code] + 1),
                    )
                )
            seen.setdefault(item.code, i)
    for target in ("tap_the", "ca_nhan"):
        names = [_title_name(t) for t in getattr(c.titles, target)]
        for i, title in enumerate(names):
            if title in names[:i]:
                problems.append(
                    LoadError(
                        file,
                        f"{entry}, titles.{target}[{i + 1}]",
                        "-",
                        _problem("duplicate", other=names.index(title) + 1),
                    )
                )
    return problems


def _check_duplicates_across_files(load: LoadSet) -> list[LoadError]:
    """A plan year or a campaign code given in two files."""
    keyed = [("plan", file, plan.year, "year") for file, plan in load.plans]
    keyed += [("campaign", file, c.code, "code") for file, c in load.campaigns]
    problems = []
    seen: dict[tuple[str, object], str] = {}
    for kind, file, key, field_name in keyed:
        if (kind, key) in seen:
            duplicate = _problem("duplicate_in", other=seen[kind, key])
            problems.append(LoadError(file, f"{kind} ({key})", field_name, duplicate))
        seen.setdefault((kind, key), file)
    return problems


def _title_name(title: str | TitleEntry) -> str:
    return title if isinstance(title, str) else title.name


def _entry(section: str, index: int, code: object | None) -> str:
    suffix = f" ({code})" if code not in (None, "") else ""
    return f"{section}[{index + 1}]{suffix}"


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
    field_name = (
        ".".join(str(p) for p in rest if not str(p).startswith(("str", "TitleEntry"))) or "-"
    )
    ctx = err.get("ctx") or {}
    problem = render_text(
        "problems/pydantic",
        kind=err["type"],
        expected=ctx.get("expected", ""),
        detail=err.get("msg", ""),
    )
    return LoadError(file, entry, field_name, problem)


async def apply(session: AsyncSession, load: LoadSet, tz: ZoneInfo, now: datetime) -> LoadReport:
    """Write every document; the caller's transaction makes it all or nothing."""
    report = LoadReport()
    for _file, doc in load.units:
        specs = [UnitSpec(code=u.code, name=u.name, kind=u.kind) for u in doc.units]
        _count(report.units, await upsert_units(session, doc.organization, specs))
    known = await unit_ids_by_code(session)
    errors: list[LoadError] = []
    plan_specs = [_plan_spec(file, plan, known, errors) for file, plan in load.plans]
    campaign_specs = [_campaign_spec(file, c, known, tz, errors) for file, c in load.campaigns]
    if errors:
        raise LoadRejected(errors)
    for plan_spec in plan_specs:
        outcome = await upsert_plan(session, plan_spec)
        getattr(report.plans, outcome).append(str(plan_spec.year))
    for campaign_spec in campaign_specs:
        outcome = await upsert_campaign(session, campaign_spec, now)
        getattr(report.campaigns, outcome).append(campaign_spec.code)
    for file, body in load.results:  # after the campaigns: a results file may name a new one
        await _apply_results(session, file, body, known, tz, errors)
        if not errors:
            campaign = await campaign_by_code(session, body.campaign)
            assert campaign is not None
            outcome = await upsert_result(
                session,
                campaign.id,
                body.decision,
                body.publish_at.replace(tzinfo=tz),
                await _result_items(session, campaign.id, body, known),
            )
            getattr(report.results, outcome).append(body.campaign)
    if errors:
        raise LoadRejected(errors)
    return report


async def _apply_results(
    session: AsyncSession,
    file: str,
    body: ResultsBody,
    known: dict[str, int],
    tz: ZoneInfo,
    errors: list[LoadError],
) -> None:
    """Check a results document's references: campaign, units, award codes of that campaign."""
    entry = f"results ({body.campaign})"
    campaign = await campaign_by_code(session, body.campaign)
    if campaign is None:
        errors.append(
            LoadError(file, entry, "campaign", _problem("unknown_campaign", code=body.campaign))
        )
        return
    awards = {a.code for a in await active_awards(session, campaign.id)}
    for i, item in enumerate(body.items):
        item_entry = f"{entry}, " + _entry("items", i, item.nominee)
        if item.unit not in known:
            errors.append(
                LoadError(file, item_entry, "unit", _problem("unknown_unit", code=item.unit))
            )
        if item.award not in awards:
            errors.append(
                LoadError(
                    file,
                    item_entry,
                    "award",
                    _problem("unknown_award", code=item.award, known=", ".join(sorted(awards))),
                )
            )


async def _result_items(
    session: AsyncSession, campaign_id: int, body: ResultsBody, known: dict[str, int]
) -> list[ResultItemSpec]:
    awards = {a.code: a.id for a in await active_awards(session, campaign_id)}
    return [ResultItemSpec(known[i.unit], i.nominee, awards[i.award]) for i in body.items]


def _count(total: LoadCounts, part: LoadCounts) -> None:
    total.added += part.added
    total.updated += part.updated
    total.unchanged += part.unchanged


def _resolve(
    codes: Iterable[str],
    known: dict[str, int],
    file: str,
    entry: str,
    name: str,
    errors: list[LoadError],
) -> set[int]:
    ids = set()
    for code in codes:
        if code == ALL:
            continue
        if code not in known:
            errors.append(LoadError(file, entry, name, _problem("unknown_unit", code=code)))
        else:
            ids.add(known[code])
    return ids


def _plan_spec(
    file: str, plan: PlanBody, known: dict[str, int], errors: list[LoadError]
) -> PlanSpec:
    tasks = []
    for i, t in enumerate(plan.tasks):
        entry = f"plan ({plan.year}), " + _entry("tasks", i, t.no)
        unit_ids = _resolve(t.units, known, file, entry, "units", errors)
        lead = _resolve([t.lead] if t.lead else [], known, file, entry, "lead", errors)
        tasks.append(
            TaskSpec(
                no=t.no,
                quarter=t.quarter,
                content=t.content,
                due=t.due or quarter_end(plan.year, t.quarter),
                all_units=ALL in t.units,
                unit_ids=frozenset(unit_ids),
                lead_unit_id=next(iter(lead), None),
            )
        )
    return PlanSpec(year=plan.year, title=plan.title, tasks=tuple(tasks))


def _campaign_spec(
    file: str, c: CampaignBody, known: dict[str, int], tz: ZoneInfo, errors: list[LoadError]
) -> CampaignSpec:
    entry = f"campaign ({c.code})"
    unit_ids = (
        None
        if c.units == ALL
        else frozenset(_resolve(c.units, known, file, entry, "units", errors))
    )
    titles = tuple(
        TitleSpec(
            target=Target(target),
            name=_title_name(t),
            short=None if isinstance(t, str) else t.short,
        )
        for target in ("tap_the", "ca_nhan")
        for t in getattr(c.titles, target)
    )
    return CampaignSpec(
        code=c.code,
        title=c.title,
        theme=c.theme,
        kind=c.kind,
        start=c.start,
        end=c.end,
        unit_ids=unit_ids,
        launch_at=c.launch_at.replace(tzinfo=tz) if c.launch_at else None,
        registration_deadline=c.registration_deadline,
        dossier_deadline=c.dossier_deadline,
        reminders=tuple(sorted(c.reminders, reverse=True)),
        titles=titles,
        awards=tuple(AwardSpec(a.code, a.name, a.target, a.quota) for a in c.awards),
        documents=tuple(DocumentSpec(d.code, d.name, d.per) for d in c.documents),
    )

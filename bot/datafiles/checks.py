"""Checks of one document that need no database: dates that fit, codes that resolve within
the file, chains without loops. Each problem names the file, the entry and the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from bot.datafiles.schema import (
    ALL,
    CampaignBody,
    PlanBody,
    ResultsBody,
    TitleEntry,
)
from messages import render_text

# Steps a campaign deadline may be counted from, besides another deadline.
BUILT_IN_STEPS = ("launch", "registration", "dossier")
# Deadlines this long after the period's end are probably a typo: the load warns.
FAR_AFTER_END = timedelta(days=366)


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


@dataclass(frozen=True, slots=True)
class Kept:
    """What of a document with errors is checked: where each entry kept is in its file (by
    section), the codes of the entries left out (None: one without a readable code), and
    whether a campaign's own units list lost a code."""

    positions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    dropped: Mapping[str, frozenset[str | None]] = field(default_factory=dict)
    units_cut: bool = False

    def at(self, section: str, index: int) -> int:
        """The position in the file of the index-th entry kept of a section."""
        where = self.positions.get(section)
        return where[index] if where is not None else index

    def left_out(self, section: str, code: str) -> bool:
        """Whether a reference may name an entry left out (its own errors are reported)."""
        dropped = self.dropped.get(section, frozenset())
        return code in dropped or None in dropped


WHOLE = Kept()


def problem(name: str, **values: Any) -> str:
    """The text of a problem, from its template."""
    return render_text(f"problems/{name}", **values)


def entry_label(section: str, index: int, code: object | None) -> str:
    """`tasks[3] (7)`: the section, the 1-based position and the code."""
    suffix = f" ({code})" if code not in (None, "") else ""
    return f"{section}[{index + 1}]{suffix}"


def _duplicates(
    file: str,
    prefix: str,
    section: str,
    codes: list[Any],
    field: str = "code",
    kept: Kept = WHOLE,
) -> list[LoadError]:
    seen: dict[Any, int] = {}
    problems = []
    for i, code in enumerate(codes):
        at = kept.at(section, i)
        if code in seen:
            problems.append(
                LoadError(
                    file,
                    f"{prefix}" + entry_label(section, at, code),
                    field,
                    problem("duplicate", other=seen[code] + 1),
                )
            )
        seen.setdefault(code, at)
    return problems


def check_units(file: str, doc: dict[str, Any]) -> list[LoadError]:
    """Duplicate and reserved codes, checked on the raw entries so every error shows at once;
    group codes share the units' namespace (a list may name either)."""
    problems = []
    units = doc.get("units") if isinstance(doc.get("units"), list) else []
    groups = doc.get("groups") if isinstance(doc.get("groups"), list) else []
    unit_codes = [u.get("code") if isinstance(u, dict) else None for u in units]
    group_codes = [g.get("code") if isinstance(g, dict) else None for g in groups]
    for section, codes in (("units", unit_codes), ("groups", group_codes)):
        for i, code in enumerate(codes):
            if isinstance(code, str) and code.upper() == ALL:
                problems.append(
                    LoadError(file, entry_label(section, i, code), "code", problem("reserved_code"))
                )
        problems += _duplicates(file, "", section, [c for c in codes if isinstance(c, str)])
    known = {c for c in unit_codes if isinstance(c, str)}
    for i, code in enumerate(group_codes):
        if code in known:
            problems.append(
                LoadError(file, entry_label("groups", i, code), "code", problem("group_is_unit"))
            )
    for i, unit in enumerate(units):
        target = unit.get("merged_into") if isinstance(unit, dict) else None
        if isinstance(target, str) and (target not in known or target == unit.get("code")):
            problems.append(
                LoadError(
                    file,
                    entry_label("units", i, unit.get("code")),
                    "merged_into",
                    problem("unknown_unit", code=target),
                )
            )
    for i, group in enumerate(groups):
        members = group.get("units") if isinstance(group, dict) else None
        for code in members if isinstance(members, list) else []:
            if isinstance(code, str) and code not in known:
                problems.append(
                    LoadError(
                        file,
                        entry_label("groups", i, group.get("code")),
                        "units",
                        problem("unknown_unit", code=code),
                    )
                )
    return problems


def check_plan(file: str, plan: PlanBody, kept: Kept = WHOLE) -> list[LoadError]:
    """Task numbers once each; each task dated one way; dates in the plan's year."""
    numbers = [t.no for t in plan.tasks]
    problems = _duplicates(file, f"plan ({plan.key}), ", "tasks", numbers, "no", kept)
    first, last = date(plan.year, 1, 1), date(plan.year, 12, 31)
    for i, task in enumerate(plan.tasks):
        entry = f"plan ({plan.key}), " + entry_label("tasks", kept.at("tasks", i), task.no)

        def bad(field: str, name: str, **values: Any) -> None:
            problems.append(LoadError(file, entry, field, problem(name, **values)))  # noqa: B023

        dated = [n for n in ("due", "due_before") if getattr(task, n) is not None]
        if len(dated) > 1:
            bad("due_before", "due_twice")
        if task.repeat is not None:
            if dated:
                bad(dated[0], "repeat_and_due")
            if task.day is None:
                bad("day", "repeat_needs_day")
            if task.month is not None and task.month > _months_in(task.repeat):
                bad("month", "repeat_month", months=_months_in(task.repeat))
        elif task.day is not None or task.month is not None:
            bad("day" if task.day is not None else "month", "day_without_repeat")
        if isinstance(task.day, int) and not 1 <= task.day <= 31:
            bad("day", "day_of_month")
        for name in dated:
            day = last_day_of(getattr(task, name))
            if not first <= day <= last:
                bad(name, "due_outside_year", year=plan.year)
    return problems


def _months_in(repeat: Any) -> int:
    return {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}[str(repeat)]


def last_day_of(value: date | str) -> date:
    """A date itself; a month ("2026-12") its last day."""
    if isinstance(value, date):
        return value
    year, month = (int(part) for part in value.split("-"))
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def check_campaign(file: str, c: CampaignBody, kept: Kept = WHOLE) -> list[LoadError]:
    """Period, launch and deadlines that fit together; codes once each; chains that resolve."""
    entry = f"campaign ({c.code})"
    problems = []

    def bad(where: str, field: str, name: str, **values: Any) -> None:
        problems.append(LoadError(file, where, field, problem(name, **values)))

    if c.end < c.start:
        bad(entry, "end", "end_before_start")
    if c.launch_at is not None and c.launch_at.tzinfo is not None:
        bad(entry, "launch_at", "local_time_only")
    launch_day = c.launch_at.date() if isinstance(c.launch_at, datetime) else None
    if launch_day is not None and launch_day > c.end:
        bad(entry, "launch_at", "launch_after_end", end=c.end)
    if launch_day is not None and launch_day < c.start - FAR_AFTER_END:
        bad(entry, "launch_at", "launch_too_early", start=c.start)
    for name in ("registration_deadline", "dossier_deadline"):
        value = getattr(c, name)
        if value is not None and value < c.start and (launch_day is None or value < launch_day):
            bad(entry, name, "deadline_before_launch")
    if not _reminders_ok(c.reminders):
        bad(entry, "reminders", "reminders")
    for section, items in (
        ("awards", c.awards),
        ("documents", c.documents),
        ("deadlines", c.deadlines),
    ):
        codes = [item.code for item in items]
        problems += _duplicates(file, f"{entry}, ", section, codes, kept=kept)
    for target in ("tap_the", "ca_nhan"):
        names = [t if isinstance(t, str) else t.name for t in getattr(c.titles, target)]
        for i, title in enumerate(names):
            if title in names[:i]:
                bad(
                    f"{entry}, titles.{target}[{i + 1}]",
                    "-",
                    "duplicate",
                    other=names.index(title) + 1,
                )
    documents = {d.code for d in c.documents}
    for i, award in enumerate(c.awards):
        where = f"{entry}, " + entry_label("awards", kept.at("awards", i), award.code)
        for code in award.documents or ():
            if code not in documents and not kept.left_out("documents", code):
                bad(where, "documents", "unknown_document", code=code, known=", ".join(documents))
    problems += _check_deadlines(file, entry, c, kept)
    return problems


def _reminders_ok(reminders: list[int]) -> bool:
    return all(0 <= r <= 90 for r in reminders) and len(set(reminders)) == len(reminders)


def _check_deadlines(file: str, entry: str, c: CampaignBody, kept: Kept) -> list[LoadError]:
    problems = []
    codes = {d.code for d in c.deadlines}
    for i, d in enumerate(c.deadlines):
        where = f"{entry}, " + entry_label("deadlines", kept.at("deadlines", i), d.code)
        ways = [n for n in ("due", "due_before", "after") if getattr(d, n) is not None]
        if not ways:
            problems.append(LoadError(file, where, "due", problem("deadline_undated")))
        elif len(ways) > 1:
            problems.append(LoadError(file, where, ways[1], problem("due_twice")))
        if d.after is not None:
            if d.days is None:
                problems.append(LoadError(file, where, "days", problem("after_needs_days")))
            known = d.after in codes or d.after in BUILT_IN_STEPS
            if not known and not kept.left_out("deadlines", d.after):  # else: its own errors
                steps = ", ".join([*BUILT_IN_STEPS, *sorted(codes)])
                problems.append(
                    LoadError(
                        file, where, "after", problem("unknown_step", code=d.after, known=steps)
                    )
                )
            elif (d.after, None) in (
                ("registration", c.registration_deadline),
                ("dossier", c.dossier_deadline),
            ):
                problems.append(
                    LoadError(
                        file, where, "after", problem("unknown_step", code=d.after, known="-")
                    )
                )
        elif d.days is not None:
            problems.append(LoadError(file, where, "days", problem("days_without_after")))
        if d.reminders is not None and not _reminders_ok(d.reminders):
            problems.append(LoadError(file, where, "reminders", problem("reminders")))
    problems += _loops(file, entry, c, kept)
    return problems


def _loops(file: str, entry: str, c: CampaignBody, kept: Kept) -> list[LoadError]:
    """A deadline counted, step by step, from itself."""
    after = {d.code: d.after for d in c.deadlines}
    problems = []
    for i, d in enumerate(c.deadlines):
        seen, step = {d.code}, d.after
        while step in after:
            if step in seen:
                problems.append(
                    LoadError(
                        file,
                        f"{entry}, " + entry_label("deadlines", kept.at("deadlines", i), d.code),
                        "after",
                        problem("after_loop"),
                    )
                )
                break
            seen.add(step)
            step = after[step]
    return problems


def check_results(file: str, body: ResultsBody, kept: Kept = WHOLE) -> list[LoadError]:
    """A results document's instant is local time, as every time a person types."""
    if body.publish_at.tzinfo is not None:
        return [
            LoadError(file, f"results ({body.campaign})", "publish_at", problem("local_time_only"))
        ]
    return []


def check_duplicates_across_files(load: Any) -> list[LoadError]:
    """A plan (of one organisation), a campaign code or a decision given twice in one load."""
    keyed: list[tuple[str, str, object, str]] = [
        ("plan", p.file, (p.organization, p.body.key), "code") for p in load.plans
    ]
    keyed += [("campaign", c.file, c.body.code, "code") for c in load.campaigns]
    keyed += [
        ("results", r.file, (r.body.campaign, r.body.decision), "decision") for r in load.results
    ]
    problems = []
    seen: dict[tuple[str, object], str] = {}
    for kind, file, key, field_name in keyed:
        label = key[-1] if isinstance(key, tuple) else key
        if (kind, key) in seen:
            duplicate = problem("duplicate_in", other=seen[kind, key])
            problems.append(LoadError(file, f"{kind} ({label})", field_name, duplicate))
        seen.setdefault((kind, key), file)
    return problems


def title_name(title: str | TitleEntry) -> str:
    """A title's name, given plain or with its abbreviation."""
    return title if isinstance(title, str) else title.name

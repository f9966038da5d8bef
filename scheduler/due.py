"""What is due when: a pure function of the data and an instant (PRODUCT §7).

Nothing here reads the database or the clock: `Snapshot` (scheduler.facts) holds the facts,
`planned_pushes` lists every push of a period and `due_pushes` says what a scheduler tick at
an instant should hand to the outbox. Each push has a unique key; the outbox keeps one row
per key and recipient, which is what makes "sent once" hold across restarts and instances.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.calendar import next_working_day, previous_working_day, quarter_start
from scheduler.facts import CampaignFacts, Snapshot, TaskFacts
from scheduler.recurrence import add_working_days

MORNING = time(8, 0)  # date-based pushes go out at 08:00 local
QUIET_FROM = time(21, 0)  # nothing is pushed from 21:00 …
QUIET_UNTIL = time(7, 0)  # … to 07:00: it waits for 07:00
TASK_REMINDERS = (7, 1)  # plan files carry no offsets; a week ahead and the day before


@dataclass(frozen=True, slots=True)
class Push:
    """One push to one unit (or, with unit None, to the office and leaders)."""

    at: datetime  # planned local instant (naive, in the snapshot's zone)
    kind: str  # launch | quarterly_tasks | reminder | overdue_digest | results | announcement
    unit: str | None
    subject: str  # campaign code, plan code, or announcement id
    key: str
    sent: bool = False
    # What the push is about: the deadline kind ("registration", "dossier", "task",
    # "deadline"), the deadline, the task numbers or the units still missing.
    deadline_kind: str | None = None
    deadline: date | None = None
    items: tuple[str, ...] = field(default=())
    org: str | None = None  # the organisation's code
    ref: int | None = None  # the plan's or the decision's id
    step: str | None = None  # a campaign deadline's code

    def as_json(self) -> dict[str, object]:
        """The `thiduabot due --json` shape."""
        return {
            "at": self.at.strftime("%Y-%m-%d %H:%M"),
            "kind": self.kind,
            "unit": self.unit,
            "organization": self.org,
            "subject": self.subject,
            "key": self.key,
            "sent": self.sent,
            "deadline_kind": self.deadline_kind,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "step": self.step,
            "items": list(self.items),
        }


def in_quiet_hours(moment: time) -> bool:
    """Whether a local time of day falls between 21:00 and 07:00."""
    return moment >= QUIET_FROM or moment < QUIET_UNTIL


def out_of_quiet_hours(local: datetime) -> datetime:
    """The instant itself, or 07:00 of the morning that ends the quiet hours it falls in."""
    if local.time() >= QUIET_FROM and local.date() < date.max:
        return datetime.combine(local.date() + timedelta(days=1), QUIET_UNTIL)
    if local.time() < QUIET_UNTIL:
        return datetime.combine(local.date(), QUIET_UNTIL)
    return local


def _local(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _reminder_days(deadline: date, offsets: Iterable[int]) -> list[date]:
    """The days reminders of one deadline go out: moved off days off, merged when they meet."""
    return sorted({previous_working_day(deadline - timedelta(days=o)) for o in offsets})


def _launch_pushes(c: CampaignFacts, tz: ZoneInfo) -> Iterator[Push]:
    at = out_of_quiet_hours(_local(c.launch_at, tz))
    for unit in (*c.unit_codes, None):
        yield Push(at, "launch", unit, c.code, f"launch:{c.code}:{unit or '-'}", org=c.org)


def _campaign_deadlines(c: CampaignFacts) -> Iterator[tuple[str, date, frozenset[str]]]:
    if c.registration_deadline is not None:
        yield "registration", c.registration_deadline, c.registered
    if c.dossier_deadline is not None:
        yield "dossier", c.dossier_deadline, c.dossier_complete


def _campaign_reminders(c: CampaignFacts, tz: ZoneInfo) -> Iterator[Push]:
    launched = _local(c.launch_at, tz)
    for kind, deadline, done in _campaign_deadlines(c):
        missing = tuple(u for u in c.unit_codes if u not in done)
        yield from _reminders_and_digest(
            c, launched, kind, deadline, c.reminders, missing, f"{kind}:{c.code}:{deadline}"
        )
    for step in c.deadlines:
        offsets = step.reminders if step.reminders is not None else c.reminders
        base = f"deadline:{c.code}:{step.code}:{step.due}"
        # The office's own step: the office is reminded, and nobody is listed as late.
        late = (None,) if step.office else tuple(u for u in step.unit_codes if u not in step.done)
        yield from _reminders_and_digest(
            c, launched, "deadline", step.due, offsets, late, base, step.code, not step.office
        )


def _review_digests(c: CampaignFacts) -> Iterator[Push]:
    """The office is told of dossiers still undecided past its limit, the working day after."""
    if c.review_days is None:
        return
    by_limit: dict[date, set[str]] = {}
    for unit, since in c.awaiting:
        by_limit.setdefault(add_working_days(since, c.review_days), set()).add(unit)
    for limit, units in sorted(by_limit.items()):
        at = datetime.combine(next_working_day(limit + timedelta(days=1)), MORNING)
        yield Push(
            at,
            "overdue_digest",
            None,
            c.code,
            f"overdue_digest:review:{c.code}:{limit}",
            deadline_kind="review",
            deadline=limit,
            items=tuple(sorted(units)),
            org=c.org,
        )


def _reminders_and_digest(
    c: CampaignFacts,
    launched: datetime,
    kind: str,
    deadline: date,
    offsets: Iterable[int],
    missing: tuple[str | None, ...],
    base: str,
    step: str | None = None,
    digest: bool = True,
) -> Iterator[Push]:
    """A deadline's reminders to the units that have not done it (None: the office), and the
    office's digest of them."""
    for day in _reminder_days(deadline, offsets):
        at = datetime.combine(day, MORNING)
        if at < launched:  # nobody is reminded of a campaign not yet launched
            continue
        for unit in missing:
            yield Push(
                at,
                "reminder",
                unit,
                c.code,
                f"reminder:{base}:{day}:{unit or '-'}",
                deadline_kind=kind,
                deadline=deadline,
                org=c.org,
                step=step,
            )
    if missing and digest:
        at = datetime.combine(next_working_day(deadline + timedelta(days=1)), MORNING)
        yield Push(
            at,
            "overdue_digest",
            None,
            c.code,
            f"overdue_digest:{base}",
            deadline_kind=kind,
            deadline=deadline,
            items=tuple(u for u in missing if u is not None),
            org=c.org,
            step=step,
        )


def _task_pushes(tasks: tuple[TaskFacts, ...]) -> Iterator[Push]:
    quarters: dict[tuple[int, int, int], dict[str, set[int]]] = {}
    by_due: dict[tuple[int, date], list[TaskFacts]] = {}
    plans = {t.plan: t for t in tasks}
    for task in tasks:
        if task.quarter is not None:
            per_unit = quarters.setdefault((task.plan, task.year, task.quarter), {})
            for unit in task.unit_codes:
                per_unit.setdefault(unit, set()).add(task.no)
        if task.due is not None:  # a task with no date is listed, never reminded
            by_due.setdefault((task.plan, task.due), []).append(task)
    for (plan, year, quarter), per_unit in sorted(quarters.items()):
        first = plans[plan]
        at = datetime.combine(next_working_day(quarter_start(year, quarter)), MORNING)
        for unit, numbers in sorted(per_unit.items()):
            key = f"quarterly_tasks:{year}-Q{quarter}:{plan}:{unit}"
            items = tuple(str(n) for n in sorted(numbers))
            yield Push(
                at,
                "quarterly_tasks",
                unit,
                first.plan_code,
                key,
                items=items,
                org=first.org,
                ref=plan,
            )
    # Tasks due the same day are reminded together: one push per unit and day.
    for (plan, due), group in sorted(by_due.items()):
        first = plans[plan]
        missing: dict[str, set[int]] = {}
        for task in group:
            for unit in task.unit_codes:
                if unit not in task.done:
                    missing.setdefault(unit, set()).add(task.no)
        for day in _reminder_days(due, TASK_REMINDERS):
            at = datetime.combine(day, MORNING)
            for unit, numbers in sorted(missing.items()):
                key = f"reminder:task:{plan}:{due}:{day}:{unit}"
                items = tuple(str(n) for n in sorted(numbers))
                yield Push(
                    at,
                    "reminder",
                    unit,
                    first.plan_code,
                    key,
                    deadline_kind="task",
                    deadline=due,
                    items=items,
                    org=first.org,
                    ref=plan,
                )
        if missing:
            at = datetime.combine(next_working_day(due + timedelta(days=1)), MORNING)
            yield Push(
                at,
                "overdue_digest",
                None,
                first.plan_code,
                f"overdue_digest:task:{plan}:{due}",
                deadline_kind="task",
                deadline=due,
                items=tuple(sorted(missing)),
                org=first.org,
                ref=plan,
            )


def _every_push(snapshot: Snapshot) -> Iterator[Push]:
    tz = snapshot.tz
    for campaign in snapshot.campaigns:
        yield from _launch_pushes(campaign, tz)
        yield from _campaign_reminders(campaign, tz)
        yield from _review_digests(campaign)
    yield from _task_pushes(snapshot.tasks)
    for result in snapshot.results:
        at = out_of_quiet_hours(_local(result.publish_at, tz))
        for unit in (*result.unit_codes, None):
            key = f"results:{result.campaign_code}:{result.result}:{unit or '-'}"
            yield Push(
                at, "results", unit, result.campaign_code, key, org=result.org, ref=result.result
            )
    for announcement in snapshot.announcements:
        at = out_of_quiet_hours(_local(announcement.send_at, tz))
        for unit in announcement.unit_codes:
            key = f"announcement:{announcement.id}:{unit}"
            yield Push(at, "announcement", unit, str(announcement.id), key, org=announcement.org)


def _all_pushes(snapshot: Snapshot) -> Iterator[Push]:
    """Every push of the facts, less those to a unit from the day it was retired."""
    retired = snapshot.retired
    for push in _every_push(snapshot):
        if push.unit is not None:
            day = retired.get((push.org, push.unit))
            if day is not None and push.at.date() >= day:
                continue
        yield push


def _with_sent(push: Push, enqueued: frozenset[str]) -> Push:
    return dataclasses.replace(push, sent=True) if push.key in enqueued else push


def planned_pushes(snapshot: Snapshot, first: date, last: date) -> list[Push]:
    """Every push whose planned local instant falls between the two dates (both included)."""
    pushes = (
        _with_sent(p, snapshot.enqueued)
        for p in _all_pushes(snapshot)
        if first <= p.at.date() <= last
    )
    return sorted(pushes, key=lambda p: (p.at, p.kind, p.unit or "", p.key))


def _stale(push: Push, today: date, campaigns: dict[str, CampaignFacts]) -> bool:
    """Catch-up drops what no longer helps: a passed deadline's reminder (the digest covers
    it), a past quarter's task list, the launch of a campaign that has ended."""
    if push.kind == "reminder":
        return push.deadline is not None and push.deadline < today
    if push.kind == "quarterly_tasks":
        year, quarter = (int(part) for part in push.key.split(":")[1].split("-Q"))
        following = quarter_start(year + 1, 1) if quarter == 4 else quarter_start(year, quarter + 1)
        return following <= today
    if push.kind == "launch":
        campaign = campaigns.get(push.subject)
        return campaign is not None and campaign.end < today
    return False


def _slot(p: Push) -> tuple[object, ...]:
    """What one reminder is about: later reminders of the same slot supersede earlier ones."""
    return (p.deadline_kind, p.org, p.subject, p.ref, p.step, p.deadline, p.unit)


def due_pushes(snapshot: Snapshot, at: datetime) -> list[Push]:
    """What a tick at the aware instant `at` should enqueue: everything planned up to now not
    enqueued yet (catch-up after downtime), minus stale reminders; nothing in quiet hours."""
    local = _local(at.astimezone(UTC), snapshot.tz)
    if in_quiet_hours(local.time()):
        return []
    campaigns = {c.code: c for c in snapshot.campaigns}
    planned = [p for p in _all_pushes(snapshot) if p.at <= local]
    # After downtime, several reminders of one deadline may be due at once: only the latest
    # goes out. Decided over everything planned (sent or not), so it holds from tick to tick.
    latest: dict[tuple[object, ...], datetime] = {}
    for p in planned:
        if p.kind == "reminder":
            latest[_slot(p)] = max(latest.get(_slot(p), p.at), p.at)
    due = (
        p
        for p in planned
        if p.key not in snapshot.enqueued
        and not _stale(p, local.date(), campaigns)
        and not (p.kind == "reminder" and p.at < latest[_slot(p)])
    )
    return sorted(due, key=lambda p: (p.at, p.kind, p.unit or "", p.key))


def next_due_at(snapshot: Snapshot, at: datetime) -> datetime | None:
    """The aware instant after `at` when the next push not yet enqueued becomes due (quiet
    hours waited out), or None: the scheduler wakes then instead of at its next minute."""
    local = _local(at.astimezone(UTC), snapshot.tz)
    upcoming = (
        out_of_quiet_hours(p.at) for p in _all_pushes(snapshot) if p.key not in snapshot.enqueued
    )
    earliest = min((moment for moment in upcoming if moment > local), default=None)
    if earliest is None:
        return None
    return earliest.replace(tzinfo=snapshot.tz).astimezone(UTC)


def push_keys(snapshot: Snapshot) -> set[str]:
    """The key of every push the facts plan, whenever it falls (to look up which are sent)."""
    return {p.key for p in _all_pushes(snapshot)}

"""The facts the due-computation reads: campaigns and their steps, plan tasks, council
results and announcements, gathered in one `Snapshot` with the push keys already enqueued.

Plain frozen values, instants aware and dates local; scheduler.snapshot reads them from the
database, tests build them by hand, scheduler.due turns them into pushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DeadlineFacts:
    """A campaign step of its own, its date resolved: who must meet it and who has."""

    code: str
    due: date
    office: bool  # the office's own step: reminded to the office, no digest
    unit_codes: tuple[str, ...] = ()
    reminders: tuple[int, ...] | None = None  # None: the campaign's
    done: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CampaignFacts:
    """A campaign as the scheduler needs it; instants are aware, dates local."""

    code: str
    launch_at: datetime
    start: date
    end: date
    unit_codes: tuple[str, ...]
    registration_deadline: date | None = None
    dossier_deadline: date | None = None
    reminders: tuple[int, ...] = (7, 3, 1, 0)
    registered: frozenset[str] = frozenset()
    dossier_complete: frozenset[str] = frozenset()
    org: str | None = None  # the organisation's code: whose office, whose unit codes
    deadlines: tuple[DeadlineFacts, ...] = ()
    # The office's review limit in working days, and the dossiers waiting for a decision:
    # (unit code, the local day the dossier became complete).
    review_days: int | None = None
    awaiting: tuple[tuple[str, date], ...] = ()


@dataclass(frozen=True, slots=True)
class TaskFacts:
    """A plan task (one occurrence of a recurring one): its number, quarter, due date (None:
    no date, listed but never reminded), responsible units and who did it."""

    year: int
    no: int
    quarter: int | None
    due: date | None
    unit_codes: tuple[str, ...]
    done: frozenset[str] = frozenset()
    plan: int = 0  # the plan's id: pushes of two bodies' plans of one year stay apart
    plan_code: str = ""
    org: str | None = None


@dataclass(frozen=True, slots=True)
class ResultFacts:
    """One council decision of a campaign: when it is published and which units it names."""

    campaign_code: str
    publish_at: datetime
    unit_codes: tuple[str, ...]
    result: int = 0  # the decision's id: a campaign may have several
    org: str | None = None


@dataclass(frozen=True, slots=True)
class AnnouncementFacts:
    """A scheduled announcement and the units it goes to."""

    id: int
    send_at: datetime
    unit_codes: tuple[str, ...]
    org: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every fact the due-computation reads, and the push keys already handed to the outbox."""

    tz: ZoneInfo
    campaigns: tuple[CampaignFacts, ...] = ()
    tasks: tuple[TaskFacts, ...] = ()
    results: tuple[ResultFacts, ...] = ()
    announcements: tuple[AnnouncementFacts, ...] = ()
    enqueued: frozenset[str] = frozenset()
    # Units no longer recipients from a day on (merged, dissolved): (org, unit code) -> day.
    retired: dict[tuple[str | None, str], date] = field(default_factory=dict)

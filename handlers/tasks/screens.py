"""The screens of /nhiemvu: a unit's tasks and campaign steps of a quarter with their
buttons, paged to fit a message; the office's progress per task, due date and step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from handlers.calendar import step_dates
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import pack
from messages.keyboards import grid, task_button
from scheduler.calendar import quarter_of
from scheduler.recurrence import occurrences
from storage.db import Database
from storage.members import Membership
from storage.models import Plan, Repeat, Unit
from storage.plans import TaskStatus, UnitTask
from storage.quarter_work import OfficeWork, UnitWork, office_work, unit_work
from storage.steps import StepRow

PREFIX = "nv"
# A page's own buttons; the last row (‹ Trước · 2/5 · Sau ›) takes the rest of Telegram's 100.
PAGE_BUTTONS = 96

B = TypeVar("B")
Key = tuple[str, int, str]  # ("t", task id, period) or ("s", step id, "")


def occurrences_in(
    year: int, quarter: int, repeat: Repeat, day: int | None, month: int | None
) -> list[date]:
    """The due dates of a recurring task that fall in one quarter of the plan's year."""
    return [d for d in occurrences(year, repeat, day or 0, month) if quarter_of(d) == quarter]


def _paginate(blocks: Sequence[B], fits: Callable[[list[B]], bool]) -> list[list[B]]:
    """Blocks in order, as many to a page as `fits` allows (always at least one)."""
    pages: list[list[B]] = [[]]
    for block in blocks:
        candidate = [*pages[-1], block]
        if pages[-1] and not fits(candidate):
            pages.append([block])
        else:
            pages[-1] = candidate
    return pages


# ---- a focal point's screen -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One due date of a recurring task, with the unit's mark for it."""

    day: date
    done_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskBlock:
    """A task on the unit's screen: a one-off one, or a recurring one with its due dates of
    the quarter shown."""

    task: UnitTask
    occurrences: tuple[Occurrence, ...] = ()
    plan_code: str = ""  # set when the year has several plans: their task numbers repeat

    @property
    def number(self) -> str:
        """The task's number as buttons say it: with its plan's code when there are several."""
        return f"{self.task.no} {self.plan_code}".strip()

    @property
    def keys(self) -> list[Key]:
        if self.task.repeat is None:
            return [("t", self.task.id, "")]
        return [("t", self.task.id, o.day.isoformat()) for o in self.occurrences]

    def buttons(self) -> list[InlineKeyboardButton]:
        t = self.task
        if t.repeat is None:
            return [task_button(t.done_at is not None, self.number, t.id)]
        return [
            InlineKeyboardButton(
                render_text(
                    "buttons/occurrence", no=self.number, day=o.day, done=o.done_at is not None
                ),
                callback_data=pack(
                    PREFIX, "u" if o.done_at else "d", t.id, o.day.strftime("%Y%m%d")
                ),
            )
            for o in self.occurrences
        ]


@dataclass(frozen=True, slots=True)
class StepBlock:
    """A campaign step the unit must meet, dated."""

    step: StepRow
    day: date
    campaign: str

    @property
    def keys(self) -> list[Key]:
        return [("s", self.step.id, "")]

    def buttons(self) -> list[InlineKeyboardButton]:
        done = self.step.done_at is not None
        label = render_text("buttons/step", title=self.step.title, day=self.day, done=done)
        return [
            InlineKeyboardButton(
                label, callback_data=pack(PREFIX, "su" if done else "sd", self.step.id)
            )
        ]


Block = TaskBlock | StepBlock


def _in_quarter(day: date, year: int, quarter: int) -> bool:
    return day.year == year and quarter_of(day) == quarter


def unit_blocks(
    work: UnitWork, year: int, quarter: int, tz: ZoneInfo
) -> tuple[Plan | None, list[Block]]:
    """The unit's plan of the year and what it must do in the quarter: tasks by number,
    then campaign steps by date."""
    plans = work.plans
    blocks: list[Block] = []
    for plan, t in work.tasks:
        code = plan.code if len(plans) > 1 else ""
        if t.repeat is None:
            blocks.append(TaskBlock(t, plan_code=code))
            continue
        marked = dict(t.done_periods)
        days = occurrences_in(plan.year, quarter, t.repeat, t.repeat_day, t.repeat_month)
        if days:  # a yearly report due in December is not a task of March
            occurring = tuple(Occurrence(d, marked.get(d.isoformat())) for d in days)
            blocks.append(TaskBlock(t, occurring, code))
    steps: list[StepBlock] = []
    for campaign_steps in work.campaigns:
        dates = step_dates(campaign_steps, tz)
        for s in campaign_steps.steps:
            day = dates.get(s.id)
            if s.mine and day is not None and _in_quarter(day, year, quarter):
                steps.append(StepBlock(s, day, campaign_steps.campaign.title))
    steps.sort(key=lambda b: (b.day, b.step.id))
    return (plans[0] if plans else None), [*blocks, *steps]


def _unit_page_text(
    tz: ZoneInfo,
    member: Membership,
    year: int,
    quarter: int,
    plan: Plan | None,
    blocks: Sequence[Block],
) -> str:
    return render(
        "tasks/unit",
        year=year,
        quarter=quarter,
        plan=plan,
        unit=member.unit_name,
        tasks=[b for b in blocks if isinstance(b, TaskBlock)],
        steps=[b for b in blocks if isinstance(b, StepBlock)],
        tz=tz,
    )


def _keyboard(
    blocks: Sequence[Block], quarter: int, page: int, pages: int
) -> InlineKeyboardMarkup | None:
    """Task buttons two to a row, step buttons one to a row, then the page row if any."""
    task_buttons = [b for block in blocks if isinstance(block, TaskBlock) for b in block.buttons()]
    layout = [task_buttons[i : i + 2] for i in range(0, len(task_buttons), 2)]
    layout += [[b] for block in blocks if isinstance(block, StepBlock) for b in block.buttons()]
    if pages > 1:
        nav = []
        if page > 0:
            nav.append(_page_button("prev", quarter, page - 1, pages))
        nav.append(_page_button("at", quarter, page, pages))
        if page < pages - 1:
            nav.append(_page_button("next", quarter, page + 1, pages))
        layout.append(nav)
    return grid(layout) if layout else None


def _page_button(which: str, quarter: int, page: int, pages: int) -> InlineKeyboardButton:
    label = render_text("buttons/page", which=which, page=page + 1, pages=pages)
    return InlineKeyboardButton(label, callback_data=pack(PREFIX, "p", quarter, page))


@dataclass(frozen=True, slots=True)
class UnitPages:
    """The unit's screen of a quarter in pages: each page's blocks, and what frames them."""

    tz: ZoneInfo
    member: Membership
    year: int
    quarter: int
    plan: Plan | None
    pages: list[list[Block]]

    def text(self, page: int) -> str:
        """The words of one page."""
        return _unit_page_text(
            self.tz, self.member, self.year, self.quarter, self.plan, self.pages[page]
        )


async def unit_pages(
    db: Database,
    tz: ZoneInfo,
    now: datetime,
    member: Membership,
    year: int,
    quarter: int,
    limit: int = MessageLimit.MAX_TEXT_LENGTH,
    buttons: int | None = PAGE_BUTTONS,
) -> UnitPages:
    """What the unit must do in the quarter, in pages of at most `limit` characters and
    `buttons` buttons (None: a channel without buttons)."""
    async with db.read() as session:
        work = await unit_work(session, year, member.organization_id, member.unit_id, quarter, now)
    plan, blocks = unit_blocks(work, year, quarter, tz)

    def fits(candidate: list[Block]) -> bool:
        text = _unit_page_text(tz, member, year, quarter, plan, candidate)
        pressed = sum(len(b.buttons()) for b in candidate) if buttons is not None else 0
        return len(text) <= limit and (buttons is None or pressed <= buttons)

    return UnitPages(tz, member, year, quarter, plan, _paginate(blocks, fits))


async def unit_screen(
    context: BotContext,
    member: Membership,
    year: int,
    quarter: int,
    page: int = 0,
    focus: Key | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the unit's screen: the given one, or the one holding `focus`."""
    rt = context.rt
    found = await unit_pages(rt.db, rt.tz, rt.now(), member, year, quarter)
    pages = found.pages
    if focus is not None:
        page = next((i for i, p in enumerate(pages) if any(focus in b.keys for b in p)), page)
    page = min(page, len(pages) - 1)
    return found.text(page), _keyboard(pages[page], quarter, page, len(pages))


# ---- the office's screen ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tally:
    """Who has done one task, one due date of a recurring task, or one step."""

    done: int
    total: int
    missing: tuple[Unit, ...]


def _tally(responsible: Sequence[Unit], done: set[int] | frozenset[int]) -> Tally:
    missing = tuple(u for u in responsible if u.id not in done)
    return Tally(len(responsible) - len(missing), len(responsible), missing)


@dataclass(frozen=True, slots=True)
class OfficeTask:
    """A task's progress; a recurring one's per due date of the quarter."""

    task: TaskStatus
    tally: Tally
    occurrences: tuple[tuple[date, Tally], ...] = ()
    plan_code: str = ""  # set when the year has several plans


@dataclass(frozen=True, slots=True)
class OfficeStep:
    """A units' step of a campaign with its progress."""

    step: StepRow
    day: date
    campaign: str
    tally: Tally


def office_blocks(
    work: OfficeWork, year: int, quarter: int, tz: ZoneInfo
) -> tuple[Plan | None, list[OfficeTask | OfficeStep]]:
    """Each task's progress by number (per due date for a recurring one), then each units'
    step of the quarter by date."""
    plans = work.plans
    blocks: list[OfficeTask | OfficeStep] = []
    for plan, s in work.statuses:
        code = plan.code if len(plans) > 1 else ""
        if s.repeat is None:
            blocks.append(OfficeTask(s, _tally(s.responsible, set(s.done)), plan_code=code))
            continue
        periods = s.done_periods or {}
        days = occurrences_in(plan.year, quarter, s.repeat, s.repeat_day, s.repeat_month)
        if days:
            per_day = tuple(
                (d, _tally(s.responsible, periods.get(d.isoformat(), frozenset()))) for d in days
            )
            blocks.append(OfficeTask(s, _tally(s.responsible, set()), per_day, code))
    steps: list[OfficeStep] = []
    for campaign_steps in work.campaigns:
        dates = step_dates(campaign_steps, tz)
        for step in campaign_steps.steps:
            day = dates.get(step.id)
            if not step.office and day is not None and _in_quarter(day, year, quarter):
                tally = _tally(step.responsible, step.done_unit_ids)
                steps.append(OfficeStep(step, day, campaign_steps.campaign.title, tally))
    steps.sort(key=lambda b: (b.day, b.step.id))
    return (plans[0] if plans else None), [*blocks, *steps]


async def office_screens(
    db: Database,
    tz: ZoneInfo,
    now: datetime,
    member: Membership,
    year: int,
    quarter: int,
    limit: int = MessageLimit.MAX_TEXT_LENGTH,
) -> list[str]:
    """The office's progress of the quarter, in as many messages of at most `limit`
    characters as it takes."""
    async with db.read() as session:
        work = await office_work(session, year, member.organization_id, quarter, now)
    plan, blocks = office_blocks(work, year, quarter, tz)

    def page_text(candidate: Sequence[OfficeTask | OfficeStep], last: bool = True) -> str:
        return render(
            "tasks/office",
            year=year,
            quarter=quarter,
            plan=plan,
            tasks=[b for b in candidate if isinstance(b, OfficeTask)],
            steps=[b for b in candidate if isinstance(b, OfficeStep)],
            last=last,
        )

    pages = _paginate(blocks, lambda c: len(page_text(c)) <= limit)
    return [page_text(p, i == len(pages) - 1) for i, p in enumerate(pages)]

"""`/nhiemvu`: this quarter's plan tasks and campaign steps — a unit marks its own (each
occurrence of a recurring task apart); the office sees progress."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard
from handlers.deadlines import step_dates
from handlers.people import fold
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import int_arg, pack, pattern, unpack
from messages.keyboards import grid, task_button
from scheduler.calendar import quarter_of
from scheduler.recurrence import occurrences
from storage.members import Membership
from storage.models import Plan, Repeat, Role, Unit
from storage.plans import (
    TaskStatus,
    UnitTask,
    plan_progress,
    plans_of_year,
    set_task_done,
    task_for_unit,
    unit_tasks,
)
from storage.steps import (
    StepRow,
    organization_campaign_steps,
    set_step_done,
    step_for_unit,
    steps_of_campaign,
    unit_campaign_steps,
)

PREFIX = "nv"
_QUARTERS = {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}
# A page's own buttons; the last row (‹ Trước · 2/5 · Sau ›) takes the rest of Telegram's 100.
PAGE_BUTTONS = 96

B = TypeVar("B")
Key = tuple[str, int, str]  # ("t", task id, period) or ("s", step id, "")


def _quarter_asked(args: list[str] | None, today: date) -> int | None:
    """`/nhiemvu 2`, `/nhiemvu Q2` or `/nhiemvu quy 2` (diacritics or not); None when the
    argument is not a quarter."""
    if not args:
        return quarter_of(today)
    word = fold("".join(args)).upper().removeprefix("QUY").removeprefix("Q")
    return _QUARTERS.get(word)


def occurrences_in(
    year: int, quarter: int, repeat: Repeat, day: int | None, month: int | None
) -> list[date]:
    """The due dates of a recurring task that fall in one quarter of the plan's year."""
    return [d for d in occurrences(year, repeat, day or 0, month) if quarter_of(d) == quarter]


def _day_arg(text: str) -> date | None:
    """A date written yyyymmdd in a button's data, or None."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


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


async def _unit_blocks(
    context: BotContext, member: Membership, year: int, quarter: int
) -> tuple[Plan | None, list[Block]]:
    """The unit's plan of the year and what it must do in the quarter: tasks by number,
    then campaign steps by date."""
    async with context.rt.db.read() as session:
        plans = await plans_of_year(session, year, member.organization_id)
        tasks = [
            (plan, t)
            for plan in plans
            for t in await unit_tasks(session, plan.id, member.unit_id, quarter)
        ]
        campaigns = await unit_campaign_steps(session, member.unit_id, context.rt.now())
    blocks: list[Block] = []
    for plan, t in tasks:
        code = plan.code if len(plans) > 1 else ""
        if t.repeat is None:
            blocks.append(TaskBlock(t, plan_code=code))
            continue
        marked = dict(t.done_periods)
        days = occurrences_in(plan.year, quarter, t.repeat, t.repeat_day, t.repeat_month)
        if days:  # a yearly report due in December is not a task of March
            occurring = tuple(Occurrence(d, marked.get(d.isoformat())) for d in days)
            blocks.append(TaskBlock(t, occurring, code))
    plan = plans[0] if plans else None
    steps: list[StepBlock] = []
    for campaign_steps in campaigns:
        dates = step_dates(campaign_steps, context.rt.tz)
        for s in campaign_steps.steps:
            day = dates.get(s.id)
            if s.mine and day is not None and _in_quarter(day, year, quarter):
                steps.append(StepBlock(s, day, campaign_steps.campaign.title))
    steps.sort(key=lambda b: (b.day, b.step.id))
    return plan, [*blocks, *steps]


def _unit_page_text(
    context: BotContext,
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
        tz=context.rt.tz,
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


async def _unit_screen(
    context: BotContext,
    member: Membership,
    year: int,
    quarter: int,
    page: int = 0,
    focus: Key | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the unit's screen: the given one, or the one holding `focus`."""
    plan, blocks = await _unit_blocks(context, member, year, quarter)

    def fits(candidate: list[Block]) -> bool:
        text = _unit_page_text(context, member, year, quarter, plan, candidate)
        buttons = sum(len(b.buttons()) for b in candidate)
        return len(text) <= MessageLimit.MAX_TEXT_LENGTH and buttons <= PAGE_BUTTONS

    pages = _paginate(blocks, fits)
    if focus is not None:
        page = next((i for i, p in enumerate(pages) if any(focus in b.keys for b in p)), page)
    page = min(page, len(pages) - 1)
    text = _unit_page_text(context, member, year, quarter, plan, pages[page])
    return text, _keyboard(pages[page], quarter, page, len(pages))


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


async def _office_blocks(
    context: BotContext, year: int, quarter: int
) -> tuple[Plan | None, list[OfficeTask | OfficeStep]]:
    assert context.member is not None
    org_id = context.member.organization_id
    async with context.rt.db.read() as session:
        plans = await plans_of_year(session, year, org_id)
        statuses = [(p, s) for p in plans for s in await plan_progress(session, p.id, quarter)]
        campaigns = await organization_campaign_steps(session, org_id, context.rt.now())
    blocks: list[OfficeTask | OfficeStep] = []
    for plan, s in statuses:
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
    for campaign_steps in campaigns:
        dates = step_dates(campaign_steps, context.rt.tz)
        for step in campaign_steps.steps:
            day = dates.get(step.id)
            if not step.office and day is not None and _in_quarter(day, year, quarter):
                tally = _tally(step.responsible, step.done_unit_ids)
                steps.append(OfficeStep(step, day, campaign_steps.campaign.title, tally))
    steps.sort(key=lambda b: (b.day, b.step.id))
    return (plans[0] if plans else None), [*blocks, *steps]


async def _office_screens(context: BotContext, year: int, quarter: int) -> list[str]:
    """The office's progress of the quarter, in as many messages as it takes."""
    plan, blocks = await _office_blocks(context, year, quarter)

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

    pages = _paginate(blocks, lambda c: len(page_text(c)) <= MessageLimit.MAX_TEXT_LENGTH)
    return [page_text(p, i == len(pages) - 1) for i, p in enumerate(pages)]


# ---- the command and its buttons --------------------------------------------------------------


@guard()
async def show_tasks(update: Update, context: BotContext) -> None:
    """`/nhiemvu [quarter]`: a focal point's tasks and steps with buttons; the office's
    per-task and per-step progress."""
    assert update.effective_message is not None and context.member is not None
    today = context.rt.now().astimezone(context.rt.tz).date()
    quarter = _quarter_asked(context.args, today)
    if quarter is None:
        await update.effective_message.reply_text(render("tasks/usage"))
        return
    if context.member.role is Role.FOCAL:
        text, markup = await _unit_screen(context, context.member, today.year, quarter)
        await update.effective_message.reply_text(text, reply_markup=markup)
        return
    for text in await _office_screens(context, today.year, quarter):
        await update.effective_message.reply_text(text)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a press changed, for the pop-up and the page to show again."""

    alert: str
    year: int
    quarter: int
    focus: Key


async def _toggle_task(
    context: BotContext, member: Membership, done: bool, args: list[str]
) -> _Outcome | None:
    """Mark a task (`nv:d:<id>`) or one due date of a recurring task (`nv:d:<id>:<yyyymmdd>`);
    None when the task is not the unit's or the date is not one of its due dates."""
    task_id = int_arg(args)
    day = _day_arg(args[1]) if len(args) == 2 else None
    if task_id is None or len(args) > 2 or (len(args) == 2 and day is None):
        return None
    now = context.rt.now()
    async with context.rt.db.write() as session:
        task = await task_for_unit(session, task_id, member.unit_id)
        if task is None:
            return None
        plan = await session.get_one(Plan, task.plan_id)
        if task.repeat is None:
            if day is not None:
                return None
            period = ""
        else:
            if day is None or day not in occurrences(
                plan.year, task.repeat, task.repeat_day or 0, task.repeat_month
            ):
                return None
            period = day.isoformat()
        await set_task_done(
            session, task.id, member.unit_id, done, member.telegram_user_id, now, period
        )
        year, no = plan.year, task.no
        today = now.astimezone(context.rt.tz).date()
        quarter = quarter_of(day) if day else task.quarter or quarter_of(today)
    if day is None:
        alert = render_text("alerts/task_toggled", no=no, done=done)
    else:
        alert = render_text("alerts/occurrence_toggled", no=no, day=day, done=done)
    return _Outcome(alert, year, quarter, ("t", task_id, period))


async def _toggle_step(
    context: BotContext, member: Membership, done: bool, args: list[str]
) -> _Outcome | None:
    """Mark a campaign step (`nv:sd:<id>`); None when it is not the unit's to meet."""
    step_id = int_arg(args)
    if step_id is None or len(args) != 1:
        return None
    now = context.rt.now()
    async with context.rt.db.write() as session:
        step = await step_for_unit(session, step_id, member.unit_id, now)
        if step is None:
            return None
        await set_step_done(session, step.id, member.unit_id, done, member.telegram_user_id, now)
        campaign_steps = await steps_of_campaign(session, step.campaign_id)
        title = step.title
    day = step_dates(campaign_steps, context.rt.tz).get(step_id)
    today = now.astimezone(context.rt.tz).date()
    shown = day or today
    alert = render_text("alerts/step_toggled", title=title, done=done)
    return _Outcome(alert, shown.year, quarter_of(shown), ("s", step_id, ""))


@guard(Role.FOCAL)
async def press(update: Update, context: BotContext) -> None:
    """A button of the unit's screen: done/undone (only for the presser's own unit's tasks,
    due dates and steps), or another page."""
    query = update.callback_query
    assert query is not None and context.member is not None
    member = context.member
    parsed = unpack(query.data, PREFIX)
    action, args = parsed if parsed else ("", [])
    if action == "p":
        quarter, page = int_arg(args), int_arg(args, 1)
        if quarter not in range(1, 5) or page is None or len(args) != 2:
            await query.answer(render_text("alerts/stale_button"), show_alert=True)
            return
        assert quarter is not None
        year = context.rt.now().astimezone(context.rt.tz).year
        text, markup = await _unit_screen(context, member, year, quarter, page)
        await query.answer()
        with contextlib.suppress(BadRequest):  # the page shown already: nothing to change
            await query.edit_message_text(text, reply_markup=markup)
        return
    if action in {"d", "u"}:
        outcome = await _toggle_task(context, member, action == "d", args)
        refused = "alerts/task_not_yours"
    elif action in {"sd", "su"}:
        outcome = await _toggle_step(context, member, action == "sd", args)
        refused = "alerts/step_not_yours"
    else:
        outcome, refused = None, "alerts/task_not_yours"
    if outcome is None:
        await query.answer(render_text(refused), show_alert=True)
        return
    await query.answer(outcome.alert)
    text, markup = await _unit_screen(
        context, member, outcome.year, outcome.quarter, focus=outcome.focus
    )
    with contextlib.suppress(BadRequest):  # the same screen (pressed twice): nothing to change
        await query.edit_message_text(text, reply_markup=markup)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The tasks command and its buttons."""
    return [
        CommandHandler("nhiemvu", show_tasks),
        CallbackQueryHandler(press, pattern=pattern(PREFIX)),
    ]

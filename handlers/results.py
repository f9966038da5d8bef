"""`/ketqua`: published council decisions — a unit those of its campaigns with its own items,
the office and leaders every decision of their organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, stale
from handlers.replies import show_page
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Page, Prefix, int_arg, pattern, unpack
from messages.long_text import MAX_TEXT, PAGE_ROOM, visible_length
from storage.campaigns import launched_campaigns_of_unit
from storage.db import Database
from storage.members import Membership
from storage.models import Role
from storage.results import PublishedResult, published_results

SHOWN = 10  # the last decisions shown, newest last


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the list: a decision's heading (item None) or one award it grants."""

    result: PublishedResult
    item: tuple[str, str, str] | None = None


def _lines(results: list[PublishedResult]) -> list[Line]:
    return [line for r in results for line in [Line(r), *(Line(r, item) for item in r.items)]]


def _screens(lines: list[Line], limit: int = MAX_TEXT, **values: object) -> list[str]:
    """The lines in as few messages of `limit` characters as fit; a decision cut by a
    message break is headed again (results/continued) in the next one."""
    screens: list[str] = []
    page: list[Line] = []
    for line in lines:
        candidate = [*page, line]
        if page and visible_length(render("results/list", lines=candidate, **values)) > (
            limit - PAGE_ROOM
        ):
            screens.append(render("results/list", lines=page, **values))
            candidate = [line]
        page = candidate
    screens.append(render("results/list", lines=page, **values))
    return screens


async def results_screens(
    db: Database, tz: ZoneInfo, now: datetime, member: Membership, limit: int = MAX_TEXT
) -> list[str]:
    """The last SHOWN decisions the member may see, in messages of at most `limit`
    characters: a unit those of its campaigns and those naming it (only its own items)."""
    own = member.unit_id if member.role is Role.FOCAL else None
    async with db.read() as session:
        results = await published_results(session, now, own, member.organization_id)
        if own is not None:
            campaigns = {c.id for c in await launched_campaigns_of_unit(session, own, now)}
            # A unit's decisions: those of its campaigns, and any that names it.
            results = [r for r in results if r.campaign.id in campaigns or r.items]
    return _screens(_lines(results[-SHOWN:]), limit, unit=member.unit_name if own else None, tz=tz)


async def _results_screens(context: BotContext) -> list[str]:
    assert context.member is not None
    rt = context.rt
    return await results_screens(rt.db, rt.tz, rt.now(), context.member)


@guard()
async def show_results(update: Update, context: BotContext) -> None:
    """`/ketqua`: the last decisions published so far, each with its number, who decided
    and when; in pages when they do not fit in one message."""
    await show_page(update, await _results_screens(context), 0, Prefix.PAGE, Page.RESULTS)


@guard()
async def turn_results_page(update: Update, context: BotContext) -> None:
    """A page button under /ketqua: that page, as the results are now."""
    assert update.callback_query is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    page = int_arg(args, 0)
    if page is None:
        await stale(update)
        return
    await show_page(update, await _results_screens(context), page, Prefix.PAGE, Page.RESULTS)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The results command."""
    return [
        CommandHandler("ketqua", show_results),
        CallbackQueryHandler(turn_results_page, pattern=pattern(Prefix.PAGE, Page.RESULTS)),
    ]

"""`/hoso`: per open campaign, every required document ✅/❌, the review state, days left."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, stale
from handlers.replies import show_page
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Page, Prefix, int_arg, pattern, unpack
from messages.long_text import MAX_TEXT, PAGE_ROOM, page_ranges, visible_length
from scheduler.calendar import working_days_between
from storage.db import Database
from storage.dossier_cache import cached_dossier_statuses, launched_campaigns_with_versions
from storage.dossier_status import DossierStatus
from storage.members import Membership
from storage.models import Role
from storage.windows import dossier_open


def screens(dossier: DossierStatus, unit: str, today: date) -> list[str]:
    """The dossier as one screen, or as pages of nominees when it does not fit in one
    (the campaign's heading and the verdict on every page, the unit's documents on the first)."""
    days, working = _days_left(dossier, today)
    values = {"dossier": dossier, "unit": unit, "days": days, "working": working}
    whole = render("status/dossier", shown=dossier.nominees, first=True, **values)
    if visible_length(whole) <= MAX_TEXT:
        return [whole]
    room = MAX_TEXT - PAGE_ROOM
    frames = [
        room - visible_length(render("status/dossier", shown=(), first=first, **values))
        for first in (True, False)
    ]
    widths = [visible_length(render("status/nominee", n=n)) + 2 for n in dossier.nominees]
    return [
        render("status/dossier", shown=dossier.nominees[r.start : r.stop], first=i == 0, **values)
        for i, r in enumerate(page_ranges(widths, frames))
    ]


Dossiers = tuple[list[DossierStatus], tuple[int, int]]


async def _dossiers(context: BotContext, member: Membership) -> Dossiers:
    """The unit's dossiers of the campaigns that take files now, nearest deadline first, and
    the counters they were read at (storage/dossier_cache)."""
    now = context.rt.now()
    today = now.astimezone(context.rt.tz).date()
    async with context.rt.db.read() as session:
        launched, versions = await launched_campaigns_with_versions(session, member.unit_id, now)
        campaigns = [
            c for c in launched if dossier_open(c, today) and c.dossier_deadline is not None
        ]
        # Read again only when a write has touched the unit's dossier (storage/dossier_cache).
        dossiers = await cached_dossier_statuses(session, campaigns, member.unit_id, versions)
    return sorted(dossiers, key=lambda d: d.campaign.dossier_deadline or today), versions


KEPT_SCREENS = 2_000  # units' rendered dossiers kept per database, least recently asked dropped
Kept = OrderedDict[int, tuple[tuple[Any, ...], list[list[str]]]]  # unit -> (key, screens)
_SCREENS: weakref.WeakKeyDictionary[Database, Kept] = weakref.WeakKeyDictionary()


def _all_screens(db: Database, member: Membership, read: Dossiers, today: date) -> list[list[str]]:
    """`screens` of each dossier, rendered again only when something they show has changed:
    the dossier's counters, the campaign's title and deadline, the days left, the unit's name
    and the words of its body (every value the templates read is in the key)."""
    dossiers, versions = read
    key = (
        versions,
        member.unit_name,
        (member.org_name, member.org_office, member.org_head, member.org_short),
        tuple(
            (d.campaign.id, d.campaign.title, d.campaign.dossier_deadline, *_days_left(d, today))
            for d in dossiers
        ),
    )
    kept = _SCREENS.setdefault(db, OrderedDict())
    found = kept.get(member.unit_id)
    if found is None or found[0] != key:
        found = kept[member.unit_id] = (
            key,
            [screens(d, member.unit_name, today) for d in dossiers],
        )
        while len(kept) > KEPT_SCREENS:
            kept.popitem(last=False)
    kept.move_to_end(member.unit_id)
    return found[1]


def _days_left(dossier: DossierStatus, today: date) -> tuple[int, int]:
    deadline = dossier.campaign.dossier_deadline
    assert deadline is not None
    return (deadline - today).days, working_days_between(today, deadline)


@guard(Role.FOCAL)
async def show_status(update: Update, context: BotContext) -> None:
    """`/hoso`: the unit's dossiers of the campaigns that take files: one message if they
    all fit in it, else one per campaign, in pages when a campaign needs them."""
    assert update.effective_message is not None and context.member is not None
    member, today = context.member, context.rt.now().astimezone(context.rt.tz).date()
    read = await _dossiers(context, member)
    if not read[0]:
        await update.effective_message.reply_text(render("status/none_open"))
        return
    rendered = _all_screens(context.rt.db, member, read, today)
    each = [(d.campaign.id, pages) for d, pages in zip(read[0], rendered, strict=True)]
    together = f"\n\n{render_text('status/separator')}\n\n".join(s[0] for _, s in each)
    if all(len(s) == 1 for _, s in each) and visible_length(together) <= MAX_TEXT:
        await update.effective_message.reply_text(together)
        return
    for campaign_id, pages in each:
        await show_page(update, pages, 0, Prefix.PAGE, Page.STATUS, campaign_id)


@guard(Role.FOCAL)
async def turn_status_page(update: Update, context: BotContext) -> None:
    """A page button under a campaign's /hoso: that page, as the unit's dossier is now."""
    assert update.callback_query is not None and context.member is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    campaign_id, page = int_arg(args, 0), int_arg(args, 1)
    member, today = context.member, context.rt.now().astimezone(context.rt.tz).date()
    read = await _dossiers(context, member)
    pages = next(
        (
            p
            for d, p in zip(read[0], _all_screens(context.rt.db, member, read, today), strict=True)
            if d.campaign.id == campaign_id
        ),
        None,
    )
    if pages is None or page is None:  # not this unit's, closed, or never was: one answer
        await stale(update)
        return
    await show_page(update, pages, page, Prefix.PAGE, Page.STATUS, campaign_id)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The status command and its page buttons."""
    return [
        CommandHandler("hoso", show_status),
        CallbackQueryHandler(turn_status_page, pattern=pattern(Prefix.PAGE, Page.STATUS)),
    ]

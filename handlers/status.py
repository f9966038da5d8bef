"""`/hoso`: per open campaign, every required document ✅/❌, the review state, days left."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, stale
from handlers.replies import show_page
from handlers.runtime import BotContext
from messages import current_channel, render, render_text
from messages.callbacks import Page, Prefix, int_arg, pattern, unpack
from messages.long_text import MAX_TEXT, PAGE_ROOM, page_ranges, visible_length
from scheduler.calendar import working_days_between
from storage.db import Database
from storage.dossier_cache import cached_dossier_statuses, launched_campaigns_with_versions
from storage.dossier_status import DossierStatus
from storage.members import Membership
from storage.models import Role
from storage.windows import dossier_open

ROLES = (Role.FOCAL,)  # who may ask for the dossier (the Zalo answer checks the same)


def screens(dossier: DossierStatus, unit: str, today: date, limit: int = MAX_TEXT) -> list[str]:
    """The dossier as one screen, or as pages of nominees when it does not fit in one
    (the campaign's heading and the verdict on every page, the unit's documents on the first);
    `limit`: the channel's length of a message."""
    days, working = _days_left(dossier, today)
    values = {"dossier": dossier, "unit": unit, "days": days, "working": working}
    whole = render("status/dossier", shown=dossier.nominees, first=True, **values)
    if visible_length(whole) <= limit:
        return [whole]
    room = limit - PAGE_ROOM
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


async def _dossiers(db: Database, now: datetime, today: date, member: Membership) -> Dossiers:
    """The unit's dossiers of the campaigns that take files now, nearest deadline first, and
    the counters they were read at (storage/dossier_cache)."""
    async with db.read() as session:
        launched, versions = await launched_campaigns_with_versions(session, member.unit_id, now)
        campaigns = [
            c for c in launched if dossier_open(c, today) and c.dossier_deadline is not None
        ]
        # Read again only when a write has touched the unit's dossier (storage/dossier_cache).
        dossiers = await cached_dossier_statuses(session, campaigns, member.unit_id, versions)
    return sorted(dossiers, key=lambda d: d.campaign.dossier_deadline or today), versions


KEPT_SCREENS = 2_000  # units' rendered dossiers kept per database, least recently asked dropped
# (unit, message length) -> (key, screens): a unit's Telegram and Zalo screens are kept apart.
Kept = OrderedDict[tuple[int, int, str], tuple[tuple[Any, ...], list[list[str]]]]
_SCREENS: weakref.WeakKeyDictionary[Database, Kept] = weakref.WeakKeyDictionary()


def _all_screens(
    db: Database, member: Membership, read: Dossiers, today: date, limit: int
) -> list[list[str]]:
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
    # Per channel too: the words of the next step differ (messages.on_channel).
    kept = _SCREENS.setdefault(db, OrderedDict())
    where = (member.unit_id, limit, current_channel())
    found = kept.get(where)
    if found is None or found[0] != key:
        found = kept[where] = (
            key,
            [screens(d, member.unit_name, today, limit) for d in dossiers],
        )
        while len(kept) > KEPT_SCREENS:
            kept.popitem(last=False)
    kept.move_to_end(where)
    return found[1]


def _days_left(dossier: DossierStatus, today: date) -> tuple[int, int]:
    deadline = dossier.campaign.dossier_deadline
    assert deadline is not None
    return (deadline - today).days, working_days_between(today, deadline)


CampaignScreens = list[tuple[int, list[str]]]  # (campaign id, its pages), nearest deadline first


async def dossier_screens(
    db: Database, tz: ZoneInfo, now: datetime, member: Membership, limit: int = MAX_TEXT
) -> CampaignScreens:
    """The unit's dossier of each campaign that takes files now, as its pages of at most
    `limit` characters; none when no campaign takes files."""
    today = now.astimezone(tz).date()
    read = await _dossiers(db, now, today, member)
    rendered = _all_screens(db, member, read, today, limit)
    return [(d.campaign.id, pages) for d, pages in zip(read[0], rendered, strict=True)]


def together(each: CampaignScreens, limit: int = MAX_TEXT) -> str | None:
    """Every campaign's dossier in one message, when each is one page and they fit in one."""
    joined = f"\n\n{render_text('status/separator')}\n\n".join(s[0] for _, s in each)
    if all(len(s) == 1 for _, s in each) and visible_length(joined) <= limit:
        return joined
    return None


@guard(*ROLES)
async def show_status(update: Update, context: BotContext) -> None:
    """`/hoso`: the unit's dossiers of the campaigns that take files: one message if they
    all fit in it, else one per campaign, in pages when a campaign needs them."""
    assert update.effective_message is not None and context.member is not None
    rt = context.rt
    each = await dossier_screens(rt.db, rt.tz, rt.now(), context.member)
    if not each:
        await update.effective_message.reply_text(render("status/none_open"))
        return
    joined = together(each)
    if joined is not None:
        await update.effective_message.reply_text(joined)
        return
    for campaign_id, pages in each:
        await show_page(update, pages, 0, Prefix.PAGE, Page.STATUS, campaign_id)


@guard(*ROLES)
async def turn_status_page(update: Update, context: BotContext) -> None:
    """A page button under a campaign's /hoso: that page, as the unit's dossier is now."""
    assert update.callback_query is not None and context.member is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    campaign_id, page = int_arg(args, 0), int_arg(args, 1)
    rt = context.rt
    each = await dossier_screens(rt.db, rt.tz, rt.now(), context.member)
    pages = next((p for c, p in each if c == campaign_id), None)
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

"""`/tracuu NAME`: a person's or a collective's titles and awards by year (PRODUCT §11) — the
office and leaders across their organisation, a focal point within its own unit.

The name asked for travels in the page buttons' data, folded (storage.text.fold: what the
search compares anyway), so a page press searches again with the presser's own rights."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, stale
from handlers.replies import answer, show_page
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Page, Prefix, int_arg, pack, pattern, unpack
from messages.long_text import MAX_TEXT, PAGE_ROOM, pages, visible_length
from storage.db import Database
from storage.history import Entry, Record, records
from storage.members import Membership
from storage.models import Role, Target
from storage.text import fold

ROLES = (Role.FOCAL, Role.OFFICE, Role.LEADER, Role.COUNCIL)
MIN_NAME = 2  # letters or digits a name asked for needs at least
MAX_NAME = 40  # characters a name asked for may have at most
SHOWN = 30  # people and collectives listed at most; more asks for a longer name

_CHUNK = 20  # a callback part's longest (messages.callbacks)
_LAST_PAGE = 9999  # the widest page number a button's data must leave room for
_ENCODED = re.compile(r"(?:[a-z0-9-]|_[0-9a-f]{1,6}_)+")
_ESCAPE = re.compile(r"_([0-9a-f]{1,6})_")


# ---- the name asked for ------------------------------------------------------------------


def _encode(folded: str) -> str:
    """A folded name in callback characters: letters and digits kept, a space as "-", any
    other character as "_<hex>_"."""
    return "".join(
        c if c.isascii() and c.isalnum() else "-" if c == " " else f"_{ord(c):x}_" for c in folded
    )


def _chunks(encoded: str) -> list[str]:
    return [encoded[i : i + _CHUNK] for i in range(0, len(encoded), _CHUNK)]


def name_args(folded: str) -> list[str] | None:
    """The folded name as the parts of a page button's data, or None if they would not fit."""
    parts = _chunks(_encode(folded))
    try:
        pack(Prefix.PAGE, Page.HISTORY, *parts, _LAST_PAGE)
    except ValueError:
        return None
    return parts


def name_of_args(parts: list[str]) -> str | None:
    """The folded name a page button's data carries, or None for data no button made."""
    encoded = "".join(parts)
    if not parts or not _ENCODED.fullmatch(encoded):
        return None
    try:
        folded = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), encoded.replace("-", " "))
    except (ValueError, OverflowError):
        return None
    if cleaned(folded) != folded or problem_of(folded) is not None:
        return None
    return folded if name_args(folded) == parts else None


def cleaned(name: str) -> str:
    """A name as typed, as the search compares it: folded (storage.text.fold), without the
    characters nobody sees."""
    return fold("".join(c for c in name if c.isprintable() or c.isspace()))


def problem_of(folded: str) -> str | None:
    """What keeps a cleaned name from being searched for ("empty", "short", "long"), or None."""
    if not folded:
        return "empty"
    if sum(c.isalnum() for c in folded) < MIN_NAME:
        return "short"
    if len(folded) > MAX_NAME or name_args(folded) is None:
        return "long"
    return None


def usage(problem: str) -> str:
    """The line answering a name that cannot be searched for (or none), with an example."""
    return render("history/usage", problem=problem, min_name=MIN_NAME, max_name=MAX_NAME)


# ---- the screens -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """A person's or a collective's years on one page (`continued`: its earlier years are on
    the page before)."""

    record: Record
    years: list[tuple[int, list[Entry]]]
    continued: bool = False


def _render_block(block: Block) -> str:
    return render(
        "history/record",
        record=block.record,
        collective=block.record.target is Target.TAP_THE,
        years=block.years,
        continued=block.continued,
    )


def _blocks(record: Record, room: int) -> list[str]:
    """The record's years, latest first, in blocks of at most `room` characters (a year
    that does not fit alone gets a block of its own, which the pager splits)."""
    rendered: list[str] = []
    years: list[tuple[int, list[Entry]]] = []
    for year in record.by_year():
        candidate = Block(record, [*years, year], bool(rendered))
        if years and visible_length(_render_block(candidate)) > room:
            rendered.append(_render_block(Block(record, years, bool(rendered))))
            years = [year]
        else:
            years = candidate.years
    rendered.append(_render_block(Block(record, years, bool(rendered))))
    return rendered


def screens_of(
    found: list[Record], folded: str, unit: str | None, limit: int = MAX_TEXT
) -> list[str]:
    """The matching people and collectives (the first SHOWN) with their years, as pages of at
    most `limit` characters; one screen saying so when none matches."""
    if not found:
        return [render("history/none", name=folded, unit=unit)]
    shown = found[:SHOWN]
    head = render("history/head", name=folded, count=len(found), unit=unit)
    foot = render("history/more", count=len(found), shown=len(shown)) if found[SHOWN:] else ""
    page_limit = limit - PAGE_ROOM
    # As messages.long_text.pages measures a page's room, less the blank line between blocks.
    room = page_limit - visible_length(head) - visible_length(foot) - 4 - 2
    blocks = [b for record in shown for b in _blocks(record, room)]
    return pages(blocks, head=head, foot=foot, limit=page_limit)


async def history_screens(
    db: Database, now: datetime, member: Membership, folded: str, limit: int = MAX_TEXT
) -> list[str]:
    """What `/tracuu` answers a member for a (valid, folded) name: the office and leaders
    search their organisation, a focal point only its own unit."""
    own = member.unit_id if member.role is Role.FOCAL else None
    async with db.read() as session:
        found = await records(session, member.organization_id, now, unit_id=own, name=folded)
    return screens_of(found, folded, member.unit_name if own is not None else None, limit)


# ---- the handlers ------------------------------------------------------------------------


@guard(*ROLES)
async def look_up(update: Update, context: BotContext) -> None:
    """`/tracuu NAME`: the titles and awards by year of everyone whose name contains it."""
    assert context.member is not None
    folded = cleaned(" ".join(context.args or []))
    problem = problem_of(folded)
    if problem is not None:
        await answer(update, usage(problem))
        return
    parts = name_args(folded)
    assert parts is not None  # problem_of checked it
    screens = await history_screens(context.rt.db, context.rt.now(), context.member, folded)
    await show_page(update, screens, 0, Prefix.PAGE, Page.HISTORY, *parts)


@guard(*ROLES)
async def turn_history_page(update: Update, context: BotContext) -> None:
    """A page button under /tracuu: that page, searched again with the presser's rights."""
    assert update.callback_query is not None and context.member is not None
    _, args = unpack(update.callback_query.data, Prefix.PAGE) or ("", [])
    page = int_arg(args, len(args) - 1) if args else None
    folded = name_of_args(args[:-1])
    if page is None or folded is None:
        await stale(update)
        return
    screens = await history_screens(context.rt.db, context.rt.now(), context.member, folded)
    await show_page(update, screens, page, Prefix.PAGE, Page.HISTORY, *args[:-1])


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The look-up command and its page buttons."""
    return [
        CommandHandler("tracuu", look_up),
        CallbackQueryHandler(turn_history_page, pattern=pattern(Prefix.PAGE, Page.HISTORY)),
    ]

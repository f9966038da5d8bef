"""What the Zalo bot answers a linked member's text (PRODUCT §12): `hoso`, `lich`, `nhiemvu`,
`ketqua`, `tracuu`, `huy` and `trogiup`, read-only, as the Telegram screens' words in plain
text; anything else gets one line of the words that can be sent.

Zalo has no buttons, no files and no flows, so an answer is at most MAX_PARTS messages of
ZALO_MAX_TEXT UTF-16 units; what needs more, or a button, ends with a line saying where on
Telegram to go. Choosing the channel (`kenh`) is listed here but answered by its own handler:
`command_of` tells the caller which word a text asks for.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from handlers import calendar, history, results, status
from handlers.tasks import quarter_asked
from handlers.tasks.screens import office_screens, unit_pages
from messages import ZALO, on_channel, render, render_text
from messages.commands import COMMANDS
from messages.organizations import org_words, speaking_for
from messages.plain import ZALO_MAX_TEXT, plain_text, split_plain, units
from storage.db import Database
from storage.members import Membership
from storage.models import Role
from storage.text import fold

MAX_PARTS = 3  # an answer longer than this many messages: the rest is on Telegram
CHANNEL_WORD = "kenh"  # answered by the channel choice, not here

# The words, in the order trogiup lists them; "help" as on Telegram.
_ORDER = ("hoso", "lich", "nhiemvu", "ketqua", "tracuu", CHANNEL_WORD, "trogiup", "huy")
_ALIASES = {"help": "trogiup"}
_EDGES = string.punctuation + string.whitespace


class Services(Protocol):
    """What the answers read: handlers.runtime.Runtime has it."""

    @property
    def db(self) -> Database: ...

    @property
    def tz(self) -> ZoneInfo: ...

    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Word:
    """A word the Zalo bot answers, what it shows and who may send it."""

    name: str
    description: str
    roles: tuple[str, ...]


def _words() -> tuple[Word, ...]:
    # Each word as the Telegram menu describes its command (KeyError if one is missing).
    menu = {c.name: c for c in COMMANDS}
    return tuple(Word(name, menu[name].description, menu[name].roles) for name in _ORDER)


WORDS = _words()


def words_for(role: str) -> list[Word]:
    """The words this role may send on Zalo, in trogiup's order."""
    return [w for w in WORDS if role in w.roles]


def command_of(text: str) -> tuple[str, list[str]] | None:
    """The word a text asks for and the words after it, or None: any case, with or without
    diacritics, a leading "/" or spaces between its syllables ("ho so", "/hoso", "HOSO")."""
    tokens = fold(text).strip(_EDGES).split()
    for size in range(1, min(len(tokens), 2) + 1):
        word = "".join(tokens[:size])
        if (word := _ALIASES.get(word, word)) in _ORDER:
            return word, tokens[size:]
    return None


async def answer(rt: Services, member: Membership, text: str) -> list[str]:
    """The plain-text messages answering a linked member's text on Zalo: at least one, at
    most MAX_PARTS, each within ZALO_MAX_TEXT units (the last saying where the rest is)."""
    body = org_words(member.org_name, member.org_office, member.org_head, member.org_short)
    with speaking_for(body), on_channel(ZALO):
        asked = command_of(text)
        if asked is None or asked[0] == CHANNEL_WORD:
            return [_unknown(member)]
        name, args = asked
        found = await _ANSWERS[name](rt, member, args)
        return found or [_unknown(member)]


def _unknown(member: Membership) -> str:
    line = render_text("zalo/unknown", words=[w.name for w in words_for(member.role)])
    return split_plain(line)[0]


def _messages(texts: list[str], command: str, mark: bool = False) -> list[str]:
    """Plain texts as at most MAX_PARTS messages within Zalo's limit; the last ends with the
    line saying where on Telegram the rest is (`/command`), or where to mark work done."""
    parts = [part for text in texts for part in split_plain(text)]
    rest = len(parts) > MAX_PARTS
    parts = parts[:MAX_PARTS]
    if not (rest or mark):
        return parts
    line = render_text("zalo/on_telegram", command=command, rest=rest, mark=mark)
    if not parts:
        return [line]
    joined = f"{parts[-1]}\n\n{line}"
    if units(joined) <= ZALO_MAX_TEXT:
        return [*parts[:-1], joined]
    if len(parts) < MAX_PARTS:
        return [*parts, line]
    # The last part makes room for the line: what it leaves out is on Telegram too.
    line = render_text("zalo/on_telegram", command=command, rest=True, mark=mark)
    kept = split_plain(parts[-1], ZALO_MAX_TEXT - units(line) - 2)[0]
    return [*parts[:-1], f"{kept}\n\n{line}"]


def _plain(html_text: str) -> list[str]:
    return [plain_text(html_text)]


async def _status(rt: Services, member: Membership, args: list[str]) -> list[str]:
    if member.role not in status.ROLES:  # the words of the Telegram guard
        forbidden = render("common/forbidden", roles=[str(r) for r in status.ROLES])
        return _messages(_plain(forbidden), "hoso")
    each = await status.dossier_screens(rt.db, rt.tz, rt.now(), member, ZALO_MAX_TEXT)
    if not each:
        return _messages(_plain(render("status/none_open")), "hoso")
    joined = status.together(each, ZALO_MAX_TEXT)
    pages = [joined] if joined is not None else [p for _, screens in each for p in screens]
    return _messages([plain_text(p) for p in pages], "hoso")


async def _calendar(rt: Services, member: Membership, args: list[str]) -> list[str]:
    # One screen: split where the entries part, the heading once.
    pages = await calendar.calendar_screens(rt.db, rt.tz, rt.now(), member, per_page=None)
    return _messages([plain_text(p) for p in pages], "lich")


async def _results(rt: Services, member: Membership, args: list[str]) -> list[str]:
    pages = await results.results_screens(rt.db, rt.tz, rt.now(), member, ZALO_MAX_TEXT)
    return _messages([plain_text(p) for p in pages], "ketqua")


async def _history(rt: Services, member: Membership, args: list[str]) -> list[str]:
    folded = history.cleaned(" ".join(args))
    problem = history.problem_of(folded)
    if problem is not None:
        return _messages(_plain(history.usage(problem)), "tracuu")
    pages = await history.history_screens(rt.db, rt.now(), member, folded, ZALO_MAX_TEXT)
    return _messages([plain_text(p) for p in pages], f"tracuu {folded}")


async def _tasks(rt: Services, member: Membership, args: list[str]) -> list[str]:
    now = rt.now()
    today = now.astimezone(rt.tz).date()
    quarter = quarter_asked(args, today)
    if quarter is None:
        return _messages(_plain(render("tasks/usage")), "nhiemvu")
    command = f"nhiemvu {quarter}" if args else "nhiemvu"
    if member.role is not Role.FOCAL:
        pages = await office_screens(rt.db, rt.tz, now, member, today.year, quarter, ZALO_MAX_TEXT)
        return _messages([plain_text(p) for p in pages], command)
    found = await unit_pages(
        rt.db, rt.tz, now, member, today.year, quarter, ZALO_MAX_TEXT, buttons=None
    )
    listed = [bool(blocks) for blocks in found.pages]
    texts = [plain_text(found.text(i)) for i in range(len(listed))]
    return _messages(texts, command, mark=any(listed))


async def _cancel(rt: Services, member: Membership, args: list[str]) -> list[str]:
    # No flow ever runs on Zalo: nothing to cancel.
    return _messages(_plain(render("common/nothing_to_cancel")), "huy")


async def _help(rt: Services, member: Membership, args: list[str]) -> list[str]:
    text = render_text(
        "zalo/help",
        role=str(member.role),
        unit_name=member.unit_name,
        words=words_for(member.role),
    )
    return _messages([text], "trogiup")


_ANSWERS = {
    "hoso": _status,
    "lich": _calendar,
    "nhiemvu": _tasks,
    "ketqua": _results,
    "tracuu": _history,
    "trogiup": _help,
    "huy": _cancel,
}

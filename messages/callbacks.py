"""Callback data: short prefixed strings built and parsed here, always under 64 bytes.

The data only says what was pressed; whoever handles it re-checks it against the
presser's rights, because a client can send any data it likes.
"""

from __future__ import annotations

import enum
import re

MAX_BYTES = 64
_PART = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


class Prefix(enum.StrEnum):
    """Every callback prefix of the bot, one per screen family: no two screens share one."""

    REGISTRATION = "dk"  # /dangky
    DOSSIER = "np"  # /nophoso
    PLACE = "pl"  # placing a file that came outside /nophoso
    ANNOUNCE = "tb"  # /thongbao
    REVIEW = "dy"  # /duyet
    LAUNCH = "pd"  # /phatdong
    TASKS = "nv"  # /nhiemvu and the campaign steps
    PAGE = "pg"  # the pages of a list a person browses (/hoso, /lich, /ketqua)
    SCHEDULED = "hh"  # the announcements scheduled and not sent yet (/thongbao → "Đã hẹn")
    CHANNEL = "kn"  # /kenh: where pushes go, the Zalo link
    COUNCIL = "hd"  # /hoidong: the office's council session
    BALLOT = "bp"  # /bophieu: a council member's secret ballot


class Scheduled(enum.StrEnum):
    """The buttons of the scheduled announcements (Prefix.SCHEDULED)."""

    LIST = "l"  # hh:l[:<page>]: the list
    ASK = "x"  # hh:x:<id>: cancel this one? (asks)
    CANCEL = "y"  # hh:y:<id>: cancel it


class Kenh(enum.StrEnum):
    """The buttons of /kenh (Prefix.CHANNEL)."""

    TELEGRAM = "t"
    ZALO = "z"
    BOTH = "b"
    CODE = "code"  # a link code for the Zalo bot
    UNLINK = "unlink"


class Council(enum.StrEnum):
    """The office's buttons of /hoidong (Prefix.COUNCIL): hd:<act>:<campaign id>."""

    SHOW = "c"
    OPEN = "m"  # open the ballot
    REMIND = "r"  # remind who has not voted
    CLOSE = "k"  # close and count
    PAPERS = "p"  # the DOCX drafts
    DECIDE = "q"  # record the issued decision


class Ballot(enum.StrEnum):
    """A council member's buttons of /bophieu (Prefix.BALLOT)."""

    PAGE = "pg"  # bp:pg:<session>:<page>
    CHOOSE = "v"  # bp:v:<session>:<proposal>:<1 agree | 0 disagree>: asks to confirm
    CONFIRM = "ok"  # bp:ok:<session>:<proposal>:<1|0>: counted


class Page(enum.StrEnum):
    """Which list a page button turns (Prefix.PAGE)."""

    STATUS = "hs"  # /hoso: pg:hs:<campaign id>:<page>
    CALENDAR = "lc"  # /lich: pg:lc:<page>
    RESULTS = "kq"  # /ketqua: pg:kq:<page>
    HISTORY = "tc"  # /tracuu: pg:tc:<the folded name, in parts>:<page>
    DOSSIER_LOG = "lh"  # /duyet, a dossier's history: pg:lh:<nominee id>:<page>
    DOSSIER_READS = "lr"  # /duyet, who was sent a dossier's files: pg:lr:<nominee id>:<page>


class Registration(enum.StrEnum):
    """The buttons of /dangky."""

    CAMPAIGN = "c"
    REDO = "redo"
    KEEP = "keep"
    TITLE = "t"
    TEMPLATE = "x"
    NO_PEOPLE = "none"
    SUMMARY = "sum"
    CONFIRM = "ok"
    EDIT = "edit"
    CANCEL = "cancel"
    RESUME = "resume"
    FRESH = "fresh"
    NAMES_FIX = "nf"
    NAMES_KEEP = "nk"


class Dossier(enum.StrEnum):
    """The buttons of /nophoso."""

    CAMPAIGN = "c"
    NOMINEE = "n"
    ADD = "add"
    AWARD = "a"
    TARGET = "t"
    DOCUMENT = "d"
    DONE = "done"
    NOMINEES_PAGE = "np"  # np:np:<page>: another page of the nominees
    AWARDS_PAGE = "ap"  # np:ap:<page>: another page of the award forms


class Announce(enum.StrEnum):
    """The buttons of /thongbao."""

    AUDIENCE = "a"
    CAMPAIGN = "c"
    UNIT = "u"
    GROUP = "g"
    UNITS_PAGE = "up"
    UNITS_DONE = "ud"
    NOW = "now"
    LATER = "later"
    CANCEL = "cancel"


class Review(enum.StrEnum):
    """The buttons of /duyet."""

    OPEN = "o"
    APPROVE = "a"
    RETURN = "r"
    ZIP = "z"
    LOG = "h"  # dy:h:<nominee id>: the dossier's history
    READS = "v"  # dy:v:<nominee id>: who was sent its files


def prefix_of(data: str | None) -> str | None:
    """The prefix of callback data ("dk" for "dk:t:5"), or None when it has none."""
    if not data or ":" not in data:
        return None
    return data.split(":", 1)[0]


def pack(prefix: str, action: str, *args: int | str) -> str:
    """`pack("dk", "t", 5)` → "dk:t:5"."""
    parts = [prefix, action, *(str(a) for a in args)]
    if not all(_PART.match(p) for p in parts):
        raise ValueError(f"callback part out of shape: {parts!r}")
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def pattern(prefix: str, action: str | None = None) -> re.Pattern[str]:
    """A regex for CallbackQueryHandler matching one prefix (and action)."""
    return re.compile(
        rf"^{re.escape(prefix)}:{re.escape(action) if action else '[A-Za-z0-9_-]+'}(:|$)"
    )


def unpack(data: str | None, prefix: str) -> tuple[str, list[str]] | None:
    """("t", ["5"]) for "dk:t:5" with prefix "dk"; None for anything else."""
    if not data or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    if len(parts) < 2 or parts[0] != prefix or not all(_PART.match(p) for p in parts):
        return None
    return parts[1], parts[2:]


def int_arg(args: list[str], index: int = 0) -> int | None:
    """The index-th argument as a non-negative int, or None."""
    if index >= len(args) or not args[index].isdigit() or len(args[index]) > 12:
        return None
    return int(args[index])

"""The council's papers as DOCX drafts, from a tally: biên bản, tờ trình, quyết định (PRODUCT §11).

Pure: plain data in, bytes out, no database. The papers are docxtpl templates
(`templates/papers/*.docx`, built from `papers.yaml` by `papers_templates`), so an office can
replace one with its own file edited in Word; a directory of its own files is passed as
`templates`. Every value a template reads is text made safe first (NFC, one line, only
characters XML allows) and escaped by Jinja's autoescape, so a name with "&" or "<" comes out
as typed.

One limit comes from docxtpl itself: after rendering it turns "{_{", "}_}", "{_%" and "%_}"
into "{{", "}}", "{%" and "%}" everywhere (its escape for literal tags), so a value holding one
of those four pairs loses the underscore.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, TemplateError

from messages import _named, words
from messages.organizations import OrgWords

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "papers"

# Characters XML 1.0 cannot hold (a document holding one does not open).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))  # fmt: skip


class PaperKind(StrEnum):
    """The three papers; the value names the template file (`<value>.docx`)."""

    BIEN_BAN = "bien_ban"  # biên bản họp và kiểm phiếu of the council
    TO_TRINH = "to_trinh"  # tờ trình to the head of the body
    QUYET_DINH = "quyet_dinh"  # quyết định with its list


@dataclass(frozen=True, slots=True)
class NomineeTally:
    """One nominee's ballots for one award."""

    name: str
    unit: str
    votes_for: int
    votes_against: int
    votes_total: int  # ballots cast on this nominee (blank ones included)
    passed: bool  # the award's threshold met, as the tally decided


@dataclass(frozen=True, slots=True)
class AwardTally:
    """One award (title or form) voted on, its threshold in words, its nominees."""

    name: str
    threshold: str  # e.g. "≥ 2/3 số thành viên có mặt"
    nominees: Sequence[NomineeTally] = ()


@dataclass(frozen=True, slots=True)
class CouncilSession:
    """The meeting: when and where, who chaired and kept the minutes, who came."""

    start: datetime  # local, naive
    place: str
    chair: str
    secretary: str
    present: int
    total: int
    quorum: str  # the rule in words, e.g. "ít nhất 2/3 tổng số thành viên"
    quorum_met: bool = True
    attendees: Sequence[str] = ()  # members present, as the minutes list them (may be empty)
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class CouncilTally:
    """Everything the three papers say: the body, the campaign, the session, the votes."""

    org: OrgWords
    campaign_code: str
    campaign_title: str
    session: CouncilSession
    awards: Sequence[AwardTally]
    locality: str = ""  # địa danh on the date line, e.g. "Lạng Sơn"; empty: left to fill in
    parent: str = ""  # the body above the issuing body (cơ quan chủ quản), if any
    office_head: str = ""  # the office head's title; empty: the usual one (papers.yaml)
    dated: date | None = None  # the tờ trình's date; None: the session's day


@dataclass(frozen=True, slots=True)
class Paper:
    """One drafted paper: which, its file name and its bytes."""

    kind: PaperKind
    file_name: str
    content: bytes


class PaperTemplateError(ValueError):
    """A template (usually one an office replaced) that cannot be read or filled in."""


@cache
def paper_source() -> dict[str, Any]:
    """The papers' words and layout (`templates/papers/papers.yaml`)."""
    return words("papers/papers")


def paper_file_name(kind: PaperKind, campaign_code: str) -> str:
    """An ASCII file name like `bien-ban-hop-hoi-dong-<code>.docx`."""
    pattern: str = paper_source()[kind.value]["file_name"]
    code = _ascii(campaign_code)
    return pattern.format(code=code) if code else pattern.replace("-{code}", "")


def _ascii(text: str) -> str:
    """Letters without their marks, other characters as "-": "TĐ 2026/1" -> "TD-2026-1"."""
    folded = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = folded.encode("ascii", "ignore").decode("ascii")
    return _NOT_IN_FILE_NAME.sub("-", plain).strip("-._")[:60].strip("-._")


def _text(value: str) -> str:
    """Text a paper can hold: NFC, one line, only characters XML allows."""
    return " ".join(_NOT_XML.sub("", unicodedata.normalize("NFC", value)).split())


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _date(value: date) -> dict[str, str]:
    """Day and month as the form writes them: a zero before days under 10 and months under 3."""
    month = f"{value.month:02d}" if value.month < 3 else str(value.month)
    return {"day": f"{value.day:02d}", "month": month, "year": str(value.year)}


def _moment(value: datetime) -> dict[str, str]:
    return {**_date(value), "hour": f"{value.hour:02d}", "minute": f"{value.minute:02d}"}


def _nominee(n: NomineeTally) -> dict[str, Any]:
    return {
        "name": _text(n.name),
        "unit": _text(n.unit),
        "votes_for": int(n.votes_for),
        "votes_against": int(n.votes_against),
        "votes_total": int(n.votes_total),
        "passed": bool(n.passed),
    }


def paper_context(tally: CouncilTally) -> dict[str, Any]:
    """What the templates read (see templates/papers/papers.yaml for the names)."""
    s = tally.session
    awards: list[dict[str, Any]] = [
        {
            "name": _text(a.name),
            "threshold": _text(a.threshold),
            "roman": _roman(i),
            "nominees": [_nominee(n) for n in a.nominees],
        }
        for i, a in enumerate(tally.awards, 1)
    ]
    proposed: list[dict[str, Any]] = []
    for award in awards:
        passed = [n for n in award["nominees"] if n["passed"]]
        if passed:
            proposed.append({**award, "nominees": passed, "roman": _roman(len(proposed) + 1)})
    org = tally.org
    return {
        "org": {
            "name": _text(org.name),
            "office": _text(org.office),
            "head": _text(org.head),
            "short": _text(org.short),
            "leaders": _text(org.leaders),
        },
        "campaign": {"code": _text(tally.campaign_code), "title": _text(tally.campaign_title)},
        "session": {
            "start": _moment(s.start),
            "end": _moment(s.end) if s.end is not None else None,
            "place": _text(s.place),
            "chair": _text(s.chair),
            "secretary": _text(s.secretary),
            "present": int(s.present),
            "total": int(s.total),
            "absent": max(int(s.total) - int(s.present), 0),
            "quorum": _text(s.quorum),
            "quorum_met": bool(s.quorum_met),
            "attendees": [_text(name) for name in s.attendees],
        },
        "awards": awards,
        "proposed": proposed,
        "nominee_count": sum(len(a["nominees"]) for a in awards),
        "passed_count": sum(len(a["nominees"]) for a in proposed),
        "locality": _text(tally.locality),
        "parent": _text(tally.parent),
        "office_head": _text(tally.office_head) or _office_head(org.office),
        "dated": _date(tally.dated or s.start.date()),
    }


def _office_head(office: str) -> str:
    """The usual title of the office's head, by the first rule of papers.yaml that fits."""
    folded = _text(office).casefold()
    for rule in paper_source()["office_head"]:
        if folded.startswith(str(rule["starts"]).casefold()):
            return _text(str(rule["title"]).format(office=_text(office)))
    return _text(office)


def _environment() -> Environment:
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["named"] = _named
    return env


def render_paper(kind: PaperKind, tally: CouncilTally, *, templates: Path | None = None) -> bytes:
    """One paper as .docx bytes, from the office's template in `templates` or the shipped one."""
    path = (templates or TEMPLATE_DIR) / f"{kind.value}.docx"
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise PaperTemplateError(f"{path.name}: {exc.strerror or exc}") from exc
    try:
        document = DocxTemplate(BytesIO(source))
        document.render(paper_context(tally), jinja_env=_environment(), autoescape=True)
        when = tally.session.end or tally.session.start
        document.docx.core_properties.created = document.docx.core_properties.modified = when
        out = BytesIO()
        document.save(out)
    # ValueError: python-docx's answer to a file that is not a Word document (an .xlsx, say).
    except (TemplateError, PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise PaperTemplateError(f"{path.name}: {exc}") from exc
    return out.getvalue()


def bien_ban(tally: CouncilTally, *, templates: Path | None = None) -> bytes:
    """The biên bản họp và kiểm phiếu of the council, as .docx bytes."""
    return render_paper(PaperKind.BIEN_BAN, tally, templates=templates)


def to_trinh(tally: CouncilTally, *, templates: Path | None = None) -> bytes:
    """The tờ trình to the head of the body, as .docx bytes."""
    return render_paper(PaperKind.TO_TRINH, tally, templates=templates)


def quyet_dinh(tally: CouncilTally, *, templates: Path | None = None) -> bytes:
    """The quyết định with its list of the nominees who passed, as .docx bytes."""
    return render_paper(PaperKind.QUYET_DINH, tally, templates=templates)


def council_papers(tally: CouncilTally, *, templates: Path | None = None) -> list[Paper]:
    """All three papers, in the order they are made, with their file names."""
    return [
        Paper(
            kind,
            paper_file_name(kind, tally.campaign_code),
            render_paper(kind, tally, templates=templates),
        )
        for kind in PaperKind
    ]


__all__: Sequence[str] = (
    "AwardTally",
    "CouncilSession",
    "CouncilTally",
    "NomineeTally",
    "Paper",
    "PaperKind",
    "PaperTemplateError",
    "bien_ban",
    "council_papers",
    "paper_context",
    "paper_file_name",
    "quyet_dinh",
    "render_paper",
    "to_trinh",
)

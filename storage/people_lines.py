"""Pure logic of a registration's people: one per line, titles matched by name or abbreviation
(no I/O: /dangky parses with it, and the tests do, fast)."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from storage.text import fold

MAX_PEOPLE = 200
MAX_NAME = 100
MAX_JOB = 150
_NUMBERING = re.compile(r"^\s*(?:\d{1,3}\s*[.)/:-]|[-•*+–])\s*")
_SEPARATORS = re.compile(r"\s*[;|\t]\s*")
# A dash with spaces around it ("Trần Thị Bình - Chuyên viên - LĐTT"): read as a separator
# only when it gives exactly three fields (a name or a position may hold one dash).
_DASHES = re.compile(r"\s+[-\u2013\u2014]\s+")
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ .'’-][^\W\d_]+)*\.?$")


# Syllables written with i or y alike in official texts (sĩ/sỹ, kĩ/kỹ, lí/lý, mĩ/mỹ).
_I_OR_Y = {"sy": "si", "ky": "ki", "ly": "li", "my": "mi", "ty": "ti", "hy": "hi"}
# Words a title may carry or leave out ("Chiến sĩ thi đua cấp cơ sở" = "… cơ sở").
_OPTIONAL_WORDS = {"cap"}


def _words(text: str) -> list[str]:
    return [_I_OR_Y.get(w, w) for w in fold(text).replace(".", " ").split()]


def title_keys(text: str, abbreviated: frozenset[str] = frozenset()) -> list[set[str]]:
    """The ways a title may be written, folded, most precise first: its words; its words run
    together; its initials, or an abbreviation mixed with words (e.g. "CSTD co so") — each with
    or without the word for "level". `abbreviated` holds the words of `text` that are
    abbreviations already."""
    words = _words(text)
    variants = (words, [w for w in words if w not in _OPTIONAL_WORDS])
    levels = [
        {" ".join(kept) for kept in variants},
        {"".join(kept) for kept in variants},
        {"".join(w if w in abbreviated else w[0] for w in kept) for kept in variants},
    ]
    return [level - {""} for level in levels]


def initials(name: str) -> str:
    """The usual abbreviation of a title: the first letters of its words, folded (the title
    abbreviated LDTT gives "ldtt")."""
    return "".join(word[0] for word in fold(name).split())


def tidy(text: str) -> str:
    """Text as typed, with non-breaking and repeated spaces collapsed and control characters
    (a NUL, a tab) read as spaces: what a name of an official list may hold."""
    composed = unicodedata.normalize("NFC", text).replace("\u00a0", " ")
    visible = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in composed)
    return " ".join(visible.split())


@dataclass(frozen=True, slots=True)
class Title:
    """A title the matcher may return."""

    id: int
    name: str
    short: str | None = None


class TitleMatcher:
    """Find a title by its name or abbreviation, ignoring case and diacritics."""

    def __init__(self, titles: Iterable[Title]) -> None:
        self.titles = list(titles)
        self._by_key: dict[str, set[int]] = {}
        for title in self.titles:
            keys = set().union(*title_keys(title.name))
            if title.short:
                keys.add(fold(title.short).replace(" ", ""))
            for key in keys:
                self._by_key.setdefault(key, set()).add(title.id)
        self._by_id = {t.id: t for t in self.titles}

    def match(self, text: str) -> Title | None:
        """The one title the text names, or None when it names none or several."""
        # A word typed in capitals without vowels' marks of a word ("CSTĐ") is an abbreviation.
        shouted = frozenset(
            _I_OR_Y.get(fold(w), fold(w)) for w in text.replace(".", " ").split() if w.isupper()
        )
        for level in title_keys(text, shouted):
            found: set[int] = set()
            for key in level:
                found |= self._by_key.get(key, set())
            if found:  # the most precise reading that names something decides
                return self._by_id[next(iter(found))] if len(found) == 1 else None
        return None

    def abbreviations(self) -> list[str]:
        """How each title may be written short, for an example in a message."""
        return [t.short or "".join(w[0] for w in tidy(t.name).split()).upper() for t in self.titles]


class Problem(enum.StrEnum):
    """Why a line could not be read (the messages/ template words each)."""

    FIELDS = "fields"
    NAME = "name"
    NAME_TOO_LONG = "name_too_long"
    JOB = "job"
    JOB_TOO_LONG = "job_too_long"
    TITLE_MISSING = "title_missing"
    TITLE_UNKNOWN = "title_unknown"
    DUPLICATE = "duplicate"
    TOO_MANY = "too_many"


@dataclass(frozen=True, slots=True)
class PersonLine:
    """A well-formed line: who, their position, the title they register for."""

    line: int
    full_name: str
    job_title: str
    title: Title


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line that could not be read, with the reason and what it said."""

    line: int
    text: str
    problem: Problem
    other_line: int | None = None


def split_line(text: str) -> list[str]:
    """The fields of one line: split on ; | or tab, else on exactly two spaced dashes, else
    on exactly two commas."""
    body = _NUMBERING.sub("", text, count=1)
    if _SEPARATORS.search(body):
        fields = _SEPARATORS.split(body)
    elif len(_DASHES.findall(body)) == 2:
        fields = _DASHES.split(body)
    elif body.count(",") == 2:
        fields = body.split(",")
    else:
        fields = [body]
    return [tidy(f) for f in fields]


def likely_fix(bad: Sequence[BadLine]) -> str | None:
    """The one fix most of the unreadable lines need, said once above them: "dashes" when
    most lines missing fields use dashes, "commas" when they use commas, else None."""
    short = [b for b in bad if b.problem is Problem.FIELDS]
    if len(short) < max(2, len(bad) // 2):
        return None
    if sum(1 for b in short if "-" in b.text or "\u2013" in b.text) * 2 > len(short):
        return "dashes"
    if sum(1 for b in short if "," in b.text) * 2 > len(short):
        return "commas"
    return None


def check_person(
    line: int,
    full_name: str,
    job_title: str,
    title_text: str,
    matcher: TitleMatcher,
    seen: dict[str, int],
) -> PersonLine | BadLine:
    """Validate one person's three fields; `seen` maps folded names to their first line."""
    name, job, title_text = tidy(full_name), tidy(job_title), tidy(title_text)
    raw = "; ".join(part for part in (name, job, title_text) if part)
    if len(name) > MAX_NAME:
        return BadLine(line, raw, Problem.NAME_TOO_LONG)
    if len(name.split()) < 2 or not _NAME_CHARS.match(name):
        return BadLine(line, raw, Problem.NAME)
    if not job:
        return BadLine(line, raw, Problem.JOB)
    if len(job) > MAX_JOB:
        return BadLine(line, raw, Problem.JOB_TOO_LONG)
    if not title_text:
        return BadLine(line, raw, Problem.TITLE_MISSING)
    title = matcher.match(title_text)
    if title is None:
        return BadLine(line, raw, Problem.TITLE_UNKNOWN)
    key = fold(name)
    if key in seen:
        return BadLine(line, raw, Problem.DUPLICATE, other_line=seen[key])
    seen[key] = line
    return PersonLine(line, name, job, title)


def parse_people(
    text: str, matcher: TitleMatcher, already: Sequence[PersonLine] = ()
) -> tuple[list[PersonLine], list[BadLine]]:
    """Read a message of people, one per line; good lines are kept, bad ones explained."""
    seen = {fold(p.full_name): p.line for p in already}
    people: list[PersonLine] = []
    bad: list[BadLine] = []
    count = len(already)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        fields = split_line(raw)
        if len(fields) != 3:
            bad.append(BadLine(number, tidy(raw)[:120], Problem.FIELDS))
            continue
        if count >= MAX_PEOPLE:
            bad.append(BadLine(number, tidy(raw)[:120], Problem.TOO_MANY))
            continue
        full_name, job_title, title_text = fields
        result = check_person(number, full_name, job_title, title_text, matcher, seen)
        if isinstance(result, PersonLine):
            people.append(result)
            count += 1
        else:
            bad.append(BadLine(result.line, result.text[:120], result.problem, result.other_line))
    return people, bad


@dataclass(frozen=True, slots=True)
class FilledForm:
    """What the rows of a returned registration form hold, checked like typed lines: the
    collective title (when the form names one, or says there is none) and the people."""

    people: list[PersonLine]
    bad: list[BadLine]
    collective_given: bool
    collective: Title | None


def people_of_form(
    rows: Iterable[tuple[int, str, str, str]],
    collective_text: str | None,
    none_word: str,
    matcher: TitleMatcher,
    collectives: TitleMatcher,
) -> FilledForm:
    """Check a returned form: each (row, name, position, title) as a typed line would be, and
    its collective title against the campaign's (`none_word`: the form's "none" choice)."""
    bad: list[BadLine] = []
    collective: Title | None = None
    given = bool(collective_text)
    if collective_text and fold(collective_text) != fold(none_word):
        collective = collectives.match(collective_text)
        if collective is None:
            bad.append(BadLine(0, collective_text, Problem.TITLE_UNKNOWN))
            given = False
    seen: dict[str, int] = {}
    people: list[PersonLine] = []
    for row, full_name, position, title in rows:
        result = check_person(row, full_name, position, title, matcher, seen)
        if isinstance(result, PersonLine):
            people.append(result)
        else:
            bad.append(result)
    return FilledForm(people, bad, given, collective)


def name_suggestion(name: str) -> str | None:
    """The form a name typed all in lower or all in upper case, or without any Vietnamese
    diacritics, would take with each word capitalised: such a name is confirmed once before it
    goes into official lists (PRODUCT §5). None when the name reads as written."""
    if not any(c.isalpha() for c in name):
        return None
    one_case = name in (name.lower(), name.upper())
    plain = fold(name) == " ".join(name.casefold().split())  # no diacritic, no đ
    if not (one_case or plain):
        return None
    return " ".join(word[:1].upper() + word[1:].lower() for word in name.split())

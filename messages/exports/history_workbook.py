"""The office's workbook of earlier years' titles and awards (PRODUCT §11): read, and its
empty template built.

Offices keep these lists in many shapes, so the reader trusts no layout: the header row is
the first of the first 20 rows whose cells name the columns (in any order, any case, with or
without diacritics; the titles are in `history_workbook/words.yaml`), and every row below it
is one title or award. Reading is pure (bytes in, rows and per-row errors out) and never
raises anything but HistoryWorkbookError, whatever the bytes; what needs the database (the
unit, and whether a name is the unit's own) is resolved by the caller.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment

from messages import render_text, words
from messages.exports.cells import TITLE_FONT, WRAP_TOP, border_box, put, save, signed, style_header
from messages.exports.registration_template import (
    TemplateError,
    _cell_text,
    _check_zip,
    _padded,
)

Column = Literal[
    "year", "unit_code", "unit_name", "name", "target", "award", "decision", "decided_by"
]
TargetText = Literal["ca_nhan", "tap_the"]  # storage.models.Target's values

COLUMNS: tuple[Column, ...] = (
    "year",
    "unit_code",
    "unit_name",
    "name",
    "target",
    "award",
    "decision",
    "decided_by",
)
FIRST_YEAR = 1990
HEADER_SEARCH_ROWS = 20
MAX_ROWS = 20_000  # rows of data; an office's whole archive is a few thousand
LIMITS: dict[Column, int] = {"name": 300, "award": 300, "decision": 100, "decided_by": 300}

_MAX_SCANNED_ROWS = 200_000  # formatted but empty rows to the bottom of a sheet still cost time
_READ_COLS = 40
_D_BAR = str.maketrans({"\u0111": "d", "\u0110": "D"})


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row of the workbook, checked as far as it can be without the database."""

    row: int  # the Excel row number, which every message about the row names
    year: int
    unit_code: str  # as typed, stripped; "" when the row names its unit only by name
    unit_name: str
    name: str
    target: TargetText | None  # None: the target column is absent or empty
    award: str
    decision: str | None
    decided_by: str | None


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong with one row; `text()` is the Vietnamese line the office reads."""

    row: int
    # no_year, bad_year, no_unit, no_name, no_award, too_long, bad_target (the reader);
    # unknown_code, unknown_name, ambiguous_name (the caller, against the database)
    reason: str
    value: str = ""
    column: str = ""
    limit: int = 0
    example_year: int = 0

    def text(self) -> str:
        """The error as the one line the office reads (history_workbook/row_error)."""
        return render_text("history_workbook/row_error", error=self)


@dataclass(frozen=True, slots=True)
class HistoryReading:
    """The rows that are right so far, and one error per problem of the others."""

    sheet: str
    rows: tuple[HistoryRow, ...]
    errors: tuple[RowError, ...]


class HistoryWorkbookError(Exception):
    """The file as a whole cannot be read; .reason is 'not_xlsx', 'no_header' or
    'too_many_rows'."""

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _folded(text: str) -> str:
    """Without case or diacritics, every run of punctuation one space: how titles compare."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_BAR))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


@cache
def _words() -> dict[str, Any]:
    return words("history_workbook/words")


@cache
def _titles() -> dict[str, tuple[frozenset[str], tuple[str, ...]]]:
    columns = _words()["columns"]
    return {
        key: (
            frozenset(_folded(t) for t in columns[key]["titles"]),
            tuple(_folded(p) for p in columns[key]["prefixes"]),
        )
        for key in COLUMNS
    }


@cache
def _targets() -> dict[str, TargetText]:
    found: dict[str, TargetText] = {}
    for value, spellings in _words()["targets"].items():
        for spelling in spellings:
            found[_folded(spelling)] = value
    return found


def header_columns(texts: Sequence[str]) -> dict[Column, int] | None:
    """Which cell holds which column, if this row is the table's header: the year, the name,
    the award and the unit (by code or by name) must all be there."""
    folded = [_folded(t) for t in texts]
    titles = _titles()
    found: dict[Column, int] = {}
    for key in COLUMNS:  # equal titles first: a unit code title is no unit name title
        exact = titles[key][0]
        index = next(
            (i for i, f in enumerate(folded) if f in exact and i not in found.values()), None
        )
        if index is not None:
            found[key] = index
    for key in COLUMNS:
        if key in found:
            continue
        prefixes = titles[key][1]
        index = next(
            (
                i
                for i, f in enumerate(folded)
                if i not in found.values() and any(f.startswith(p + " ") for p in prefixes)
            ),
            None,
        )
        if index is not None:
            found[key] = index
    needed = ("year", "name", "award")
    if all(k in found for k in needed) and ("unit_code" in found or "unit_name" in found):
        return found
    return None


def read_history_workbook(data: bytes, this_year: int) -> HistoryReading:
    """Every row of the office's workbook, checked on its own; raises only
    HistoryWorkbookError, whatever the bytes. `this_year` is the latest year a row may have."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise HistoryWorkbookError("not_xlsx")
    data = bytes(data)
    try:
        _check_zip(data)
    except TemplateError as exc:
        raise HistoryWorkbookError("not_xlsx") from exc
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl surfaces zip, XML, key and value errors alike
        raise HistoryWorkbookError("not_xlsx") from exc
    try:
        for name in list(wb.sheetnames):
            reading = _read_sheet(wb[name], name, this_year)
            if reading is not None:
                return reading
    except HistoryWorkbookError:
        raise
    except Exception as exc:  # a damaged sheet part only fails while its rows are read
        raise HistoryWorkbookError("not_xlsx") from exc
    finally:
        with contextlib.suppress(Exception):
            wb.close()
    raise HistoryWorkbookError("no_header")


def _read_sheet(ws: Any, sheet: str, this_year: int) -> HistoryReading | None:
    if not hasattr(ws, "iter_rows"):  # a chart sheet
        return None
    # A file written by another program may declare a wrong size; read what is really there.
    ws.reset_dimensions()
    columns: dict[Column, int] | None = None
    example = _example_texts()
    rows: list[HistoryRow] = []
    errors: list[RowError] = []
    for number, raw in enumerate(ws.iter_rows(max_col=_READ_COLS, values_only=True), start=1):
        if number > _MAX_SCANNED_ROWS:
            raise HistoryWorkbookError("too_many_rows")
        cells = _padded(raw, _READ_COLS)
        if columns is None:
            if number > HEADER_SEARCH_ROWS:
                return None
            columns = header_columns([_cell_text(v) for v in cells])
            continue
        texts = {key: _cell_text(cells[i]) for key, i in columns.items()}
        if not any(texts.values()) or all(texts[k] == example[k] for k in texts):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            raise HistoryWorkbookError("too_many_rows")
        row, problems = check_row(number, texts, this_year)
        if row is not None:
            rows.append(row)
        errors += problems
    if columns is None:
        return None
    return HistoryReading(sheet, tuple(rows), tuple(errors))


def check_row(
    number: int, texts: dict[Column, str], this_year: int
) -> tuple[HistoryRow | None, list[RowError]]:
    """One row's cells (as text) checked: the row, or every problem it has."""
    example = this_year - 1
    problems: list[RowError] = []
    year_text = texts.get("year", "")
    plain = year_text.isascii() and year_text.isdigit() and len(year_text) <= 6
    year = int(year_text) if plain else 0
    if not year_text:
        problems.append(RowError(number, "no_year", example_year=example))
    elif not FIRST_YEAR <= year <= this_year:
        problems.append(RowError(number, "bad_year", year_text[:40], example_year=example))
    code, unit_name = texts.get("unit_code", ""), texts.get("unit_name", "")
    if not code and not unit_name:
        problems.append(RowError(number, "no_unit"))
    needed: tuple[tuple[Column, str], ...] = (("name", "no_name"), ("award", "no_award"))
    for key, reason in needed:
        if not texts.get(key):
            problems.append(RowError(number, reason))
    for key, limit in LIMITS.items():
        if len(texts.get(key, "")) > limit:
            problems.append(RowError(number, "too_long", column=key, limit=limit))
    target_text = texts.get("target", "")
    target = _targets().get(_folded(target_text)) if target_text else None
    if target_text and target is None:
        problems.append(RowError(number, "bad_target", target_text[:60]))
    if problems:
        return None, problems
    row = HistoryRow(
        row=number,
        year=year,
        unit_code=code,
        unit_name=unit_name,
        name=texts["name"],
        target=target,
        award=texts["award"],
        decision=texts.get("decision") or None,
        decided_by=texts.get("decided_by") or None,
    )
    return row, []


@cache
def _example_texts() -> dict[Column, str]:
    return dict(zip(COLUMNS, (_cell_text(v) for v in _words()["template"]["example"]), strict=True))


# ---------------------------------------------------------------------------
# The empty template

_HEADER_ROW = 3
_WIDTHS = (8, 12, 28, 30, 12, 36, 18, 28)


def build_history_template() -> bytes:
    """The workbook an office fills with its earlier years: a title, the header, an example
    row, and a sheet that says how to fill each column."""
    t = _words()["template"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new Workbook always has its first sheet
    ws.title = t["data_sheet"]
    header: list[str] = t["header"]
    put(ws, 1, 1, t["heading"]).font = TITLE_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    for col, text in enumerate(header, start=1):
        put(ws, _HEADER_ROW, col, text)
    style_header(ws, _HEADER_ROW, 1, len(header))
    for col, value in enumerate(t["example"], start=1):
        put(ws, _HEADER_ROW + 1, col, value).alignment = WRAP_TOP
    border_box(ws, range(_HEADER_ROW + 1, _HEADER_ROW + 2), range(1, len(header) + 1))
    for col, width in enumerate(_WIDTHS, start=1):
        ws.column_dimensions[chr(ord("A") + col - 1)].width = width
        for row in range(_HEADER_ROW + 1, _HEADER_ROW + 500):
            # Text format keeps a typed "012" or "1/2" as typed, the year column aside.
            if col > 1:
                ws.cell(row=row, column=col).number_format = "@"
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=1)

    note = wb.create_sheet(t["note_sheet"])
    put(note, 1, 1, t["note_heading"]).font = TITLE_FONT
    for col, text in enumerate(t["note_columns"], start=1):
        put(note, 3, col, text)
    style_header(note, 3, 1, 2)
    for offset, (column, how) in enumerate(t["notes"], start=4):
        put(note, offset, 1, column).alignment = WRAP_TOP
        put(note, offset, 2, how).alignment = Alignment(wrap_text=True, vertical="top")
    last = 4 + len(t["notes"])
    border_box(note, range(4, last), range(1, 3))
    for offset, text in enumerate(t["notes_after"], start=last + 1):
        put(note, offset, 1, text)
    note.column_dimensions["A"].width = 32
    note.column_dimensions["B"].width = 90

    signed(wb, t["document_title"])
    wb.active = 0
    return save(wb)

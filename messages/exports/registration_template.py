"""The registration form a unit downloads, fills in and sends back: built, and read back.

The form carries a hidden marker (THIDUA-TEMPLATE, campaign code, unit code) in column H and
on a hidden list sheet; reading trusts nothing else in the file and never raises anything but
TemplateError, whatever the bytes.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.cells import (
    HEADER_FONT,
    INPUT_FILL,
    TITLE_FONT,
    WRAP_TOP,
    border_box,
    dmy,
    put,
    save,
    signed,
    style_header,
)
from messages.exports.words import export_words

_WORDS = export_words("registration_template")
_READING = _WORDS["reading"]

TEMPLATE_MARKER = "THIDUA-TEMPLATE v1"  # a format identifier, never translated
NO_COLLECTIVE_TITLE: str = _WORDS["no_collective"]
FORM_SHEET: str = _WORDS["form_sheet"]
LISTS_SHEET: str = _WORDS["lists_sheet"]


@dataclass(frozen=True, slots=True)
class TemplateContext:
    """What the registration template of one unit for one campaign shows."""

    campaign_code: str
    campaign_title: str
    unit_code: str
    unit_name: str
    collective_titles: tuple[str, ...]
    individual_titles: tuple[str, ...]
    deadline: date | None
    current_collective: str | None = None  # pre-filled from an existing registration
    current_individuals: tuple[tuple[str, str, str], ...] = ()  # pre-filled rows


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One non-empty row of a returned template, raw text."""

    row: int  # the Excel row number, for messages like "dòng 14"
    full_name: str
    position: str
    title: str


@dataclass(frozen=True, slots=True)
class TemplateReading:
    """What a returned template holds; nothing here is validated yet."""

    campaign_code: str | None
    unit_code: str | None
    collective_title: str | None  # raw text as typed/selected, stripped; None if empty
    rows: tuple[TemplateRow, ...]


class TemplateError(Exception):
    """Not our template or unreadable; .reason is 'not_xlsx', 'not_template' or 'too_many_rows'."""

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------------------
# Building the form

_MARKER_COL = 8  # column H on the form, hidden: survives copying the sheet to another file
_COLLECTIVE_ROW = 7
_HEADER_ROW = 9
_MIN_EMPTY_ROWS = 50
_VALIDATED_ROWS = 500  # the dropdown keeps working when a unit adds rows below the table


def build_registration_template(ctx: TemplateContext) -> bytes:
    """The registration workbook a unit downloads, fills in and sends back to the bot."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new Workbook always has its first sheet
    ws.title = FORM_SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"

    collective_choices = [*dict.fromkeys(ctx.collective_titles), NO_COLLECTIVE_TITLE]
    collective_choices = list(dict.fromkeys(collective_choices))
    individual_choices = list(dict.fromkeys(ctx.individual_titles))
    _fill_lists(lists, ctx, collective_choices, individual_choices)

    width = 4
    words = _WORDS
    put(ws, 1, 1, words["heading"]).font = TITLE_FONT
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    deadline = dmy(ctx.deadline) if ctx.deadline is not None else words["no_deadline"]
    block: tuple[str, ...] = (
        words["campaign"].format(title=ctx.campaign_title),
        words["unit"].format(name=ctx.unit_name),
        words["deadline"].format(deadline=deadline),
        words["instructions"],
    )
    for offset, text in enumerate(block):
        cell = put(ws, 2 + offset, 1, text)
        cell.alignment = WRAP_TOP
        # Excel does not grow merged rows to fit wrapped text, so the height is set here.
        ws.row_dimensions[2 + offset].height = 15 * max(1, math.ceil(len(text) / 95))
    ws.cell(row=3, column=1).font = HEADER_FONT
    ws.cell(row=5, column=1).font = Font(italic=True)
    for row in range(1, 6):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)

    label = put(ws, _COLLECTIVE_ROW, 1, words["collective_label"])
    label.font = HEADER_FONT
    label.alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(start_row=_COLLECTIVE_ROW, start_column=1, end_row=_COLLECTIVE_ROW, end_column=2)
    collective = put(ws, _COLLECTIVE_ROW, 3, ctx.current_collective or None)
    collective.fill = INPUT_FILL
    collective.number_format = "@"
    ws.merge_cells(start_row=_COLLECTIVE_ROW, start_column=3, end_row=_COLLECTIVE_ROW, end_column=4)
    border_box(ws, range(_COLLECTIVE_ROW, _COLLECTIVE_ROW + 1), range(3, 5))

    for col, text in enumerate(words["header"], start=1):
        put(ws, _HEADER_ROW, col, text)
    style_header(ws, _HEADER_ROW, 1, width)

    first = _HEADER_ROW + 1
    count = max(_MIN_EMPTY_ROWS, len(ctx.current_individuals) + 20)
    for i in range(count):
        row = first + i
        put(ws, row, 1, i + 1).alignment = Alignment(horizontal="center")
        values = ctx.current_individuals[i] if i < len(ctx.current_individuals) else ("", "", "")
        for col, value in enumerate(values, start=2):
            cell = put(ws, row, col, value or None)
            # Text format keeps a typed "1/2" or "012" as typed instead of a date or a number.
            cell.number_format = "@"
    border_box(ws, range(first, first + count), range(1, width + 1))

    last_validated = first + max(count, _VALIDATED_ROWS) - 1
    collective_dv = _list_validation(
        f"{LISTS_SHEET}!$C$2:$C${1 + len(collective_choices)}",
        words["collective_prompt_title"],
        words["collective_prompt"],
    )
    collective_dv.add(f"C{_COLLECTIVE_ROW}")
    ws.add_data_validation(collective_dv)
    if individual_choices:
        title_dv = _list_validation(
            f"{LISTS_SHEET}!$D$2:$D${1 + len(individual_choices)}",
            words["title_prompt_title"],
            words["title_prompt"],
        )
        title_dv.add(f"D{first}:D{last_validated}")
        ws.add_data_validation(title_dv)

    for col, text in enumerate((TEMPLATE_MARKER, ctx.campaign_code, ctx.unit_code), start=1):
        put(ws, col, _MARKER_COL, text)
    ws.column_dimensions[get_column_letter(_MARKER_COL)].hidden = True

    longest_title = max((len(t) for t in individual_choices), default=0)
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 24
    ws.column_dimensions["D"].width = min(max(30, longest_title + 4), 50)
    ws.freeze_panes = ws.cell(row=first, column=1)
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    signed(wb, words["document_title"].format(campaign=ctx.campaign_title, unit=ctx.unit_name))
    wb.active = 0
    return save(wb)


def _list_validation(formula: str, title: str, prompt: str) -> DataValidation:
    """A dropdown that suggests but never refuses: the bot re-checks and explains row by row."""
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=False,
        showInputMessage=True,
        promptTitle=title,
        prompt=prompt,
    )


def _fill_lists(
    ws: Worksheet,
    ctx: TemplateContext,
    collective_choices: Sequence[str],
    individual_choices: Sequence[str],
) -> None:
    for row, text in enumerate((TEMPLATE_MARKER, ctx.campaign_code, ctx.unit_code), start=1):
        put(ws, row, 1, text)
    put(ws, 1, 3, _WORDS["collective_list"])
    put(ws, 1, 4, _WORDS["individual_list"])
    for row, text in enumerate(collective_choices, start=2):
        put(ws, row, 3, text)
    for row, text in enumerate(individual_choices, start=2):
        put(ws, row, 4, text)
    for letter in "ACD":
        ws.column_dimensions[letter].width = 40


# ---------------------------------------------------------------------------
# Reading a returned form

_MAX_UNCOMPRESSED = 64 * 1024 * 1024  # a real template is tens of kilobytes
_MAX_MEMBERS = 2000
_MAX_SCANNED_ROWS = 100_000  # empty but formatted rows to the bottom of the sheet still cost time
_HEADER_SEARCH_ROWS = 100
_READ_COLS = _MARKER_COL
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _cell_text(value: Any) -> str:
    """A cell as the text a person sees: numbers without '.0', dates day first, spaces collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = unicodedata.normalize("NFC", str(value)).translate(_INVISIBLE)
    # str.split() also splits on non-breaking and other Unicode spaces.
    return " ".join(text.split())


def _check_zip(data: bytes) -> None:
    """Refuse what is not a zip, and zips that would expand far beyond any real template."""
    if not data.startswith(b"PK\x03\x04"):
        raise TemplateError("not_xlsx")
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception as exc:  # zipfile raises several unrelated types on damaged input
        raise TemplateError("not_xlsx") from exc
    # zipfile never inflates a member past its declared size, so the declared sizes bound memory.
    if len(members) > _MAX_MEMBERS or sum(m.file_size for m in members) > _MAX_UNCOMPRESSED:
        raise TemplateError("not_xlsx")


def read_registration_template(data: bytes, max_rows: int = 500) -> TemplateReading:
    """Raw cells of a returned template; raises only TemplateError, whatever the bytes."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TemplateError("not_xlsx")
    data = bytes(data)
    _check_zip(data)
    try:
        wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl surfaces zip, XML, key and value errors alike
        raise TemplateError("not_xlsx") from exc
    try:
        return _read_workbook(wb, max_rows)
    except TemplateError:
        raise
    except Exception as exc:  # a damaged sheet part only fails while its rows are read
        raise TemplateError("not_xlsx") from exc
    finally:
        with contextlib.suppress(Exception):
            wb.close()


def _padded(values: Iterable[Any], width: int) -> list[Any]:
    row = list(values)[:width]
    return row + [None] * (width - len(row))


def _read_workbook(wb: Any, max_rows: int) -> TemplateReading:
    names = list(wb.sheetnames)
    markers: list[str] = ["", "", ""]
    if LISTS_SHEET in names:
        lists = wb[LISTS_SHEET]
        for i, values in enumerate(lists.iter_rows(min_row=1, max_row=3, max_col=1)):
            markers[i] = _cell_text(values[0].value if values else None)

    form_name = FORM_SHEET if FORM_SHEET in names else None
    if form_name is None:
        others = [n for n in names if n != LISTS_SHEET]
        if not others:
            raise TemplateError("not_template")
        form_name = others[0]
    ws = wb[form_name]
    # A file written by another program may declare a wrong size; read what is really there.
    ws.reset_dimensions()

    own: list[str] = ["", "", ""]
    collective: str | None = None
    columns: tuple[int, int, int] | None = None
    rows: list[TemplateRow] = []
    for number, raw in enumerate(ws.iter_rows(max_col=_READ_COLS, values_only=True), start=1):
        if number > _MAX_SCANNED_ROWS:
            raise TemplateError("too_many_rows")
        cells = _padded(raw, _READ_COLS)
        if number <= 3:
            own[number - 1] = _cell_text(cells[_MARKER_COL - 1])
        if columns is None:
            texts = [_cell_text(v) for v in cells]
            found = _table_columns(texts)
            if found is not None:
                if TEMPLATE_MARKER not in (own[0], markers[0]):
                    raise TemplateError("not_template")
                columns = found
                continue
            if number > _HEADER_SEARCH_ROWS:
                raise TemplateError("not_template")
            collective = _collective_in(texts, collective)
            continue
        full_name, position, title = (_cell_text(cells[c]) for c in columns)
        if not (full_name or position or title):
            continue
        rows.append(TemplateRow(number, full_name, position, title))
        if len(rows) > max_rows:
            raise TemplateError("too_many_rows")
    if columns is None:
        raise TemplateError("not_template")

    # The form's own hidden column wins: the hidden list sheet may come from another unit's copy.
    source = own if own[0] == TEMPLATE_MARKER else markers
    return TemplateReading(
        campaign_code=source[1] or None,
        unit_code=source[2] or None,
        collective_title=collective,
        rows=tuple(rows),
    )


def _table_columns(texts: Sequence[str]) -> tuple[int, int, int] | None:
    """(name, position, title) column indexes if this is the table header row."""
    folded = [t.casefold() for t in texts]
    name_header, position_header = _READING["name"], _READING["position"]
    if name_header not in folded:
        return None
    name = folded.index(name_header)
    position = folded.index(position_header) if position_header in folded else name + 1
    title = next(
        (i for i, t in enumerate(folded) if t.startswith(_READING["title"]) and i != name), name + 2
    )
    return name, min(position, _READ_COLS - 1), min(title, _READ_COLS - 1)


def _collective_in(texts: Sequence[str], current: str | None) -> str | None:
    """The collective title if this row holds its label, else what was found before."""
    for i, text in enumerate(texts[: _MARKER_COL - 1]):
        if text.casefold().startswith(_READING["collective"]):
            value = next((t for t in texts[i + 1 : _MARKER_COL - 1] if t), "")
            return value or None
    return current

"""Writing an Excel sheet the house way: safe text cells, day-first dates, styles, widths."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.words import export_words

CREATOR: str = export_words()["creator"]

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
DONE_FILL = PatternFill("solid", fgColor="E2EFDA")
OVERDUE_FILL = PatternFill("solid", fgColor="FCE4D6")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
TITLE_FONT = Font(bold=True, size=14)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

MIN_WIDTH = 8
MAX_WIDTH = 60


def clean(text: str) -> str:
    """Text openpyxl can store: NFC, without the control characters XML forbids."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", text)))


def put(ws: Worksheet, row: int, col: int, value: Any, *, number_format: str | None = None) -> Cell:
    """Write a value; text stays text and dates get a Vietnamese day-first format."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = clean(value)
        # A name typed as "=…" by a user must never become a live formula in the office's Excel.
        cell.data_type = "s"
    else:
        cell.value = value
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
    if number_format is not None:
        cell.number_format = number_format
    return cell


def dmy(value: date) -> str:
    """A date as the office writes it: 05/03/2025."""
    return value.strftime("%d/%m/%Y")


def display_len(value: Any) -> int:
    """Roughly how many characters wide the value shows in Excel."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 16
    if isinstance(value, date):
        return 10
    if isinstance(value, str):
        return max((len(line) for line in value.splitlines()), default=0)
    return len(str(value))


def style_header(ws: Worksheet, row: int, first_col: int, last_col: int) -> None:
    """The row's cells from first_col to last_col look like a table header."""
    for col in range(first_col, last_col + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = CENTER


def border_box(ws: Worksheet, rows: range, cols: range) -> None:
    """A thin border around every cell of the block."""
    for r in rows:
        for c in cols:
            ws.cell(row=r, column=c).border = BORDER


def fit_columns(ws: Worksheet, rows: range, cols: range) -> None:
    """Widths from the table's own cells (not the title row), capped; long text wraps instead."""
    for c in cols:
        longest = max((display_len(ws.cell(row=r, column=c).value) for r in rows), default=0)
        ws.column_dimensions[get_column_letter(c)].width = min(
            max(longest + 2, MIN_WIDTH), MAX_WIDTH
        )
        if longest + 2 > MAX_WIDTH:
            for r in rows:
                cell = ws.cell(row=r, column=c)
                if display_len(cell.value) + 2 > MAX_WIDTH:
                    cell.alignment = WRAP_TOP


def title_row(ws: Worksheet, text: str) -> None:
    """The sheet's title in its first cell."""
    cell = put(ws, 1, 1, text)
    cell.font = Font(bold=True, size=13)


def landscape(ws: Worksheet, title_rows: str) -> None:
    """Printed on A4 landscape, as wide as the page, repeating the header rows."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_FALLBACK: str = export_words()["sheet_fallback"]


def safe_sheet_name(base: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name from base; records it (casefolded) in used."""
    name = " ".join(_SHEET_FORBIDDEN.sub("-", clean(base)).split())
    # Excel rejects a name that starts or ends with an apostrophe.
    name = name[:31].strip(" '") or _SHEET_FALLBACK
    candidate, n = name, 2
    # Excel compares sheet names without regard to case.
    while candidate.casefold() in used or candidate.casefold() == "history":
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)].rstrip(" '") + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def signed(wb: Workbook, title: str) -> None:
    """The workbook's document properties: its title, and the bot as its author."""
    wb.properties.title = clean(title)
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR


def save(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes."""
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()

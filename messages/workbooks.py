"""Excel workbooks: the office summary, and the registration template a unit fills and returns."""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "CREATOR",
    "FORM_SHEET",
    "LISTS_SHEET",
    "NO_COLLECTIVE_TITLE",
    "TEMPLATE_MARKER",
    "CampaignRegistrations",
    "QuarterTasks",
    "TemplateContext",
    "TemplateError",
    "TemplateReading",
    "TemplateRow",
    "UnitRegistration",
    "build_registration_template",
    "build_summary_workbook",
    "read_registration_template",
    "safe_sheet_name",
]

CREATOR = "ThiĐua bot"
TEMPLATE_MARKER = "THIDUA-TEMPLATE v1"
NO_COLLECTIVE_TITLE = "Không đăng ký"
FORM_SHEET = "Đăng ký"
LISTS_SHEET = "DanhMuc"

DATE_FORMAT = "dd/mm/yyyy"
DATETIME_FORMAT = "dd/mm/yyyy hh:mm"

_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_DONE_FILL = PatternFill("solid", fgColor="E2EFDA")
_OVERDUE_FILL = PatternFill("solid", fgColor="FCE4D6")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_TITLE_FONT = Font(bold=True, size=14)
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

_MIN_WIDTH = 8
_MAX_WIDTH = 60


# ---------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True, slots=True)
class UnitRegistration:
    """One unit's registration for a campaign, as the office sees it."""

    unit_code: str
    unit_name: str
    registered: bool
    registered_at: datetime | None  # naive local time, already converted
    collective_title: str | None  # None: "Không đăng ký" for the collective, or not registered
    individuals: tuple[tuple[str, str, str], ...] = ()  # (họ và tên, chức vụ, danh hiệu)


@dataclass(frozen=True, slots=True)
class CampaignRegistrations:
    """A campaign and every unit's registration for it."""

    code: str
    title: str
    registration_deadline: date | None
    individual_titles: tuple[str, ...]  # column order for the per-title counts
    units: tuple[UnitRegistration, ...]


@dataclass(frozen=True, slots=True)
class QuarterTasks:
    """One quarter of the plan: tasks, which unit must do which, and what is done."""

    year: int
    quarter: int
    tasks: tuple[tuple[int, str, date | None], ...]  # (số TT, nội dung, hạn)
    units: tuple[tuple[str, str], ...]  # (mã, tên) in row order
    responsible: frozenset[tuple[str, int]]  # (unit_code, task_no) the unit must do
    done: Mapping[tuple[str, int], date]  # (unit_code, task_no) -> date marked done (local)


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
# Cell helpers


def _clean(text: str) -> str:
    """Text openpyxl can store: NFC, without the control characters XML forbids."""
    return str(ILLEGAL_CHARACTERS_RE.sub("", unicodedata.normalize("NFC", text)))


def _put(
    ws: Worksheet, row: int, col: int, value: Any, *, number_format: str | None = None
) -> Cell:
    """Write a value; text stays text and dates get a Vietnamese day-first format."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = _clean(value)
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


def _dmy(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _display_len(value: Any) -> int:
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


def _style_header(ws: Worksheet, row: int, first_col: int, last_col: int) -> None:
    for col in range(first_col, last_col + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = _CENTER


def _border_box(ws: Worksheet, rows: range, cols: range) -> None:
    for r in rows:
        for c in cols:
            ws.cell(row=r, column=c).border = _BORDER


def _fit_columns(ws: Worksheet, rows: range, cols: range) -> None:
    """Widths from the table's own cells (not the title row), capped; long text wraps instead."""
    for c in cols:
        longest = max((_display_len(ws.cell(row=r, column=c).value) for r in rows), default=0)
        ws.column_dimensions[get_column_letter(c)].width = min(
            max(longest + 2, _MIN_WIDTH), _MAX_WIDTH
        )
        if longest + 2 > _MAX_WIDTH:
            for r in rows:
                cell = ws.cell(row=r, column=c)
                if _display_len(cell.value) + 2 > _MAX_WIDTH:
                    cell.alignment = _WRAP_TOP


def _title_row(ws: Worksheet, text: str) -> None:
    cell = _put(ws, 1, 1, text)
    cell.font = Font(bold=True, size=13)


def _landscape(ws: Worksheet, title_rows: str) -> None:
    """Printed on A4 landscape, as wide as the page, repeating the header rows."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def safe_sheet_name(base: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name from base; records it (casefolded) in used."""
    name = " ".join(_SHEET_FORBIDDEN.sub("-", _clean(base)).split())
    # Excel rejects a name that starts or ends with an apostrophe.
    name = name[:31].strip(" '") or "Trang"
    candidate, n = name, 2
    # Excel compares sheet names without regard to case.
    while candidate.casefold() in used or candidate.casefold() == "history":
        suffix = f" ({n})"
        candidate = name[: 31 - len(suffix)].rstrip(" '") + suffix
        n += 1
    used.add(candidate.casefold())
    return candidate


def _save(wb: Workbook) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The office summary


def build_summary_workbook(
    organization: str,
    generated_at: datetime,
    campaigns: Sequence[CampaignRegistrations],
    quarters: Sequence[QuarterTasks],
) -> bytes:
    """The office's summary workbook: overview, registrations per campaign, tasks per quarter."""
    wb = Workbook()
    used: set[str] = set()
    overview = wb.active
    assert overview is not None  # a new Workbook always has its first sheet
    overview.title = safe_sheet_name("Tổng quan", used)

    campaign_sheets: list[str] = []
    for campaign in campaigns:
        reg = wb.create_sheet(safe_sheet_name(f"ĐK {campaign.code}", used))
        _fill_registrations(reg, campaign)
        people = wb.create_sheet(safe_sheet_name(f"DS {campaign.code}", used))
        _fill_individuals(people, campaign)
        campaign_sheets.append(reg.title)
    quarter_sheets: list[str] = []
    for quarter in quarters:
        ws = wb.create_sheet(safe_sheet_name(f"NV {quarter.year} Q{quarter.quarter}", used))
        _fill_tasks(ws, quarter, generated_at.date())
        quarter_sheets.append(ws.title)

    _fill_overview(
        overview, organization, generated_at, campaigns, quarters, campaign_sheets, quarter_sheets
    )
    wb.properties.title = _clean(f"Tổng hợp thi đua, khen thưởng — {organization}")
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    return _save(wb)


def _link(cell: Cell, sheet: str) -> None:
    """Clicking the cell opens the detailed sheet."""
    quoted = sheet.replace("'", "''")
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!A1")
    cell.font = Font(color="0563C1", underline="single")


def _fill_overview(
    ws: Worksheet,
    organization: str,
    generated_at: datetime,
    campaigns: Sequence[CampaignRegistrations],
    quarters: Sequence[QuarterTasks],
    campaign_sheets: Sequence[str],
    quarter_sheets: Sequence[str],
) -> None:
    _put(ws, 1, 1, "Tổng hợp thi đua, khen thưởng").font = _TITLE_FONT
    _put(ws, 2, 1, "Cơ quan").font = _HEADER_FONT
    _put(ws, 2, 2, organization)
    _put(ws, 3, 1, "Thời điểm lập").font = _HEADER_FONT
    _put(ws, 3, 2, generated_at, number_format=DATETIME_FORMAT).alignment = Alignment(
        horizontal="left"
    )

    row = 5
    _put(ws, row, 1, "Đăng ký thi đua").font = Font(bold=True, size=12)
    row += 1
    campaign_header = (
        "Mã phong trào",
        "Tên phong trào",
        "Hạn đăng ký",
        "Số đơn vị đã đăng ký",
        "Tổng số đơn vị",
        "Số cá nhân đăng ký",
    )
    for col, text in enumerate(campaign_header, start=1):
        _put(ws, row, col, text)
    _style_header(ws, row, 1, len(campaign_header))
    if not campaigns:
        row += 1
        _put(ws, row, 1, "Chưa có phong trào nào.")
    for campaign, sheet in zip(campaigns, campaign_sheets, strict=True):
        row += 1
        _link(_put(ws, row, 1, campaign.code), sheet)
        _put(ws, row, 2, campaign.title)
        _put(ws, row, 3, campaign.registration_deadline, number_format=DATE_FORMAT)
        _put(ws, row, 4, sum(1 for u in campaign.units if u.registered))
        _put(ws, row, 5, len(campaign.units))
        _put(ws, row, 6, sum(len(u.individuals) for u in campaign.units))
        _border_box(ws, range(row, row + 1), range(1, len(campaign_header) + 1))

    row += 2
    _put(ws, row, 1, "Nhiệm vụ theo quý").font = Font(bold=True, size=12)
    row += 1
    quarter_header = (
        "Quý",
        "Số nhiệm vụ",
        "Số lượt đã hoàn thành",
        "Số lượt phải thực hiện",
        "Tỷ lệ hoàn thành",
        "Số lượt quá hạn chưa hoàn thành",
    )
    for col, text in enumerate(quarter_header, start=1):
        _put(ws, row, col, text)
    _style_header(ws, row, 1, len(quarter_header))
    if not quarters:
        row += 1
        _put(ws, row, 1, "Chưa có kế hoạch nhiệm vụ nào.")
    today = generated_at.date()
    for quarter, sheet in zip(quarters, quarter_sheets, strict=True):
        row += 1
        done, responsible = _quarter_totals(quarter)
        due = {no: when for no, _content, when in quarter.tasks}
        overdue = sum(
            1
            for key in quarter.responsible
            if key not in quarter.done and due.get(key[1]) is not None and due[key[1]] < today
        )
        _link(_put(ws, row, 1, f"Quý {quarter.quarter}/{quarter.year}"), sheet)
        _put(ws, row, 2, len(quarter.tasks))
        _put(ws, row, 3, done)
        _put(ws, row, 4, responsible)
        # An empty ratio cell reads better than a division by zero.
        _put(ws, row, 5, done / responsible if responsible else None, number_format="0%")
        _put(ws, row, 6, overdue)
        _border_box(ws, range(row, row + 1), range(1, len(quarter_header) + 1))

    widths = (16, 48, 14, 14, 14, 18)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    longest_title = max((_display_len(c.title) for c in campaigns), default=0)
    ws.column_dimensions["B"].width = min(max(longest_title + 2, 30, len(organization) + 2), 60)
    ws.page_setup.orientation = "landscape"


def _quarter_totals(quarter: QuarterTasks) -> tuple[int, int]:
    """(done, responsible) counted over the cells a unit must do."""
    responsible = len(quarter.responsible)
    done = sum(1 for key in quarter.responsible if key in quarter.done)
    return done, responsible


def _registration_columns(campaign: CampaignRegistrations) -> tuple[list[str], bool]:
    """Title columns, and whether an extra column is needed for titles outside the list."""
    titles = list(dict.fromkeys(campaign.individual_titles))
    known = set(titles)
    other = any(t not in known for u in campaign.units for _n, _p, t in u.individuals)
    return titles, other


def _fill_registrations(ws: Worksheet, campaign: CampaignRegistrations) -> None:
    title = f"Đăng ký thi đua: {campaign.title} ({campaign.code})"
    if campaign.registration_deadline is not None:
        title += f" — hạn đăng ký {_dmy(campaign.registration_deadline)}"
    _title_row(ws, title)

    titles, other = _registration_columns(campaign)
    header = ["Mã đơn vị", "Tên đơn vị", "Đã đăng ký", "Thời điểm đăng ký", "Danh hiệu tập thể"]
    header += titles
    if other:
        header.append("Danh hiệu khác")
    header.append("Tổng số cá nhân")
    head = 2
    for col, text in enumerate(header, start=1):
        _put(ws, head, col, text)
    _style_header(ws, head, 1, len(header))

    first_title_col = 6
    listed = set(titles)
    sums = [0] * (len(titles) + (1 if other else 0))
    row = head
    for unit in campaign.units:
        row += 1
        _put(ws, row, 1, unit.unit_code)
        _put(ws, row, 2, unit.unit_name)
        _put(ws, row, 3, "Có" if unit.registered else "Chưa").alignment = _CENTER
        _put(ws, row, 4, unit.registered_at, number_format=DATETIME_FORMAT)
        if unit.collective_title is not None:
            collective = unit.collective_title
        else:
            collective = NO_COLLECTIVE_TITLE if unit.registered else ""
        _put(ws, row, 5, collective)
        counts = [sum(1 for _n, _p, t in unit.individuals if t == title) for title in titles]
        if other:
            counts.append(sum(1 for _n, _p, t in unit.individuals if t not in listed))
        for i, count in enumerate(counts):
            _put(ws, row, first_title_col + i, count)
            sums[i] += count
        _put(ws, row, len(header), len(unit.individuals))
    last_unit_row = row

    row += 1
    _put(ws, row, 1, "Tổng cộng")
    _put(ws, row, 2, f"{len(campaign.units)} đơn vị")
    _put(ws, row, 3, sum(1 for u in campaign.units if u.registered)).alignment = _CENTER
    _put(ws, row, 5, sum(1 for u in campaign.units if u.collective_title is not None))
    for i, total in enumerate(sums):
        _put(ws, row, first_title_col + i, total)
    _put(ws, row, len(header), sum(len(u.individuals) for u in campaign.units))
    for col in range(1, len(header) + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = _HEADER_FONT
        cell.fill = _TOTAL_FILL

    _border_box(ws, range(head + 1, row + 1), range(1, len(header) + 1))
    _fit_columns(ws, range(head, row + 1), range(1, len(header) + 1))
    # Counting columns stay narrow even though their header is long: the header wraps.
    for col in range(first_title_col, len(header) + 1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = min(
            max(_MIN_WIDTH + 4, len(header[col - 1]) // 2 + 4), 24
        )
    ws.row_dimensions[head].height = 32
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(header))}{max(last_unit_row, head)}"
    _landscape(ws, f"{head}:{head}")


def _fill_individuals(ws: Worksheet, campaign: CampaignRegistrations) -> None:
    _title_row(ws, f"Danh sách cá nhân đăng ký: {campaign.title} ({campaign.code})")
    header = ("Mã đơn vị", "Tên đơn vị", "Họ và tên", "Chức vụ", "Danh hiệu đăng ký")
    head = 2
    for col, text in enumerate(header, start=1):
        _put(ws, head, col, text)
    _style_header(ws, head, 1, len(header))
    row = head
    for unit in campaign.units:
        for full_name, position, title in unit.individuals:
            row += 1
            for col, value in enumerate(
                (unit.unit_code, unit.unit_name, full_name, position, title), start=1
            ):
                _put(ws, row, col, value)
    last = row
    _border_box(ws, range(head + 1, last + 1), range(1, len(header) + 1))
    if last == head:
        _put(ws, head + 1, 1, "Chưa có cá nhân nào đăng ký.")
    _fit_columns(ws, range(head, max(last, head) + 1), range(1, len(header) + 1))
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(header))}{last}"
    _landscape(ws, f"{head}:{head}")


def _fill_tasks(ws: Worksheet, quarter: QuarterTasks, today: date) -> None:
    _title_row(
        ws,
        f"Nhiệm vụ quý {quarter.quarter}/{quarter.year} — “✓ ngày/tháng”: đã hoàn thành; "
        "“—”: chưa hoàn thành; ô trống: đơn vị không phải thực hiện",
    )
    head, due_row = 2, 3
    last_col = len(quarter.tasks) + 3
    _put(ws, head, 1, "Mã đơn vị")
    _put(ws, head, 2, "Tên đơn vị")
    _put(ws, due_row, 2, "Hạn")
    for i, (number, content, due) in enumerate(quarter.tasks):
        col = 3 + i
        cell = _put(ws, head, col, f"NV {number}")
        # The content is often a paragraph: the header stays short and shows it on hover.
        comment = Comment(_clean(content) or f"NV {number}", CREATOR)
        comment.width = 320
        comment.height = max(80, 20 * math.ceil(len(content) / 45) + 20)
        cell.comment = comment
        _put(ws, due_row, col, f"Hạn {_dmy(due)}" if due is not None else "—")
    _put(ws, head, last_col, "Hoàn thành")
    _style_header(ws, head, 1, last_col)
    _style_header(ws, due_row, 1, last_col)
    # The code and ratio columns span both header rows; the name column labels the due-date row.
    for col in (1, last_col):
        ws.merge_cells(start_row=head, start_column=col, end_row=due_row, end_column=col)

    due_by_task = {number: due for number, _content, due in quarter.tasks}
    row = due_row
    per_task_done = [0] * len(quarter.tasks)
    per_task_resp = [0] * len(quarter.tasks)
    for unit_code, unit_name in quarter.units:
        row += 1
        _put(ws, row, 1, unit_code)
        _put(ws, row, 2, unit_name)
        done_count = resp_count = 0
        for i, (number, _content, _due) in enumerate(quarter.tasks):
            key = (unit_code, number)
            must = key in quarter.responsible
            done_on = quarter.done.get(key)
            cell = ws.cell(row=row, column=3 + i)
            if done_on is not None:
                _put(ws, row, 3 + i, f"✓ {done_on.strftime('%d/%m')}")
                cell.fill = _DONE_FILL
            elif must:
                _put(ws, row, 3 + i, "—")
                if due_by_task[number] is not None and due_by_task[number] < today:
                    cell.fill = _OVERDUE_FILL
            cell.alignment = _CENTER
            if must:
                resp_count += 1
                per_task_resp[i] += 1
                # Done cells outside the unit's duties are shown but not counted.
                if done_on is not None:
                    done_count += 1
                    per_task_done[i] += 1
        _put(ws, row, last_col, f"{done_count}/{resp_count}").alignment = _CENTER
    last_unit_row = row

    row += 1
    _put(ws, row, 1, "Tổng cộng")
    _put(ws, row, 2, "Số đơn vị hoàn thành")
    for i in range(len(quarter.tasks)):
        _put(ws, row, 3 + i, f"{per_task_done[i]}/{per_task_resp[i]}").alignment = _CENTER
    done, responsible = _quarter_totals(quarter)
    _put(ws, row, last_col, f"{done}/{responsible}").alignment = _CENTER
    for col in range(1, last_col + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = _HEADER_FONT
        cell.fill = _TOTAL_FILL

    _border_box(ws, range(due_row + 1, row + 1), range(1, last_col + 1))
    _fit_columns(ws, range(due_row + 1, row + 1), range(1, 3))
    for col in range(3, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 15
    ws.freeze_panes = ws.cell(row=due_row + 1, column=3)
    ws.auto_filter.ref = f"A{due_row}:{get_column_letter(last_col)}{last_unit_row}"
    _landscape(ws, f"{head}:{due_row}")


# ---------------------------------------------------------------------------
# The registration template

_INSTRUCTIONS = (
    "Hướng dẫn: Điền mỗi cá nhân một dòng; cột Danh hiệu chọn trong danh sách; "
    "giữ nguyên các dòng tiêu đề."
)
_COLLECTIVE_LABEL = "Danh hiệu tập thể đăng ký:"
_TABLE_HEADER = ("STT", "Họ và tên", "Chức vụ", "Danh hiệu đăng ký")
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
    _put(ws, 1, 1, "PHIẾU ĐĂNG KÝ THI ĐUA").font = _TITLE_FONT
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    deadline = _dmy(ctx.deadline) if ctx.deadline is not None else "(chưa thông báo)"
    block = (
        f"Phong trào: {ctx.campaign_title}",
        f"Đơn vị: {ctx.unit_name}",
        f"Hạn đăng ký: {deadline}",
        _INSTRUCTIONS,
    )
    for offset, text in enumerate(block):
        cell = _put(ws, 2 + offset, 1, text)
        cell.alignment = _WRAP_TOP
        # Excel does not grow merged rows to fit wrapped text, so the height is set here.
        ws.row_dimensions[2 + offset].height = 15 * max(1, math.ceil(len(text) / 95))
    ws.cell(row=3, column=1).font = _HEADER_FONT
    ws.cell(row=5, column=1).font = Font(italic=True)
    for row in range(1, 6):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)

    label = _put(ws, _COLLECTIVE_ROW, 1, _COLLECTIVE_LABEL)
    label.font = _HEADER_FONT
    label.alignment = Alignment(horizontal="right", vertical="center")
    ws.merge_cells(start_row=_COLLECTIVE_ROW, start_column=1, end_row=_COLLECTIVE_ROW, end_column=2)
    collective = _put(ws, _COLLECTIVE_ROW, 3, ctx.current_collective or None)
    collective.fill = _INPUT_FILL
    collective.number_format = "@"
    ws.merge_cells(start_row=_COLLECTIVE_ROW, start_column=3, end_row=_COLLECTIVE_ROW, end_column=4)
    _border_box(ws, range(_COLLECTIVE_ROW, _COLLECTIVE_ROW + 1), range(3, 5))

    for col, text in enumerate(_TABLE_HEADER, start=1):
        _put(ws, _HEADER_ROW, col, text)
    _style_header(ws, _HEADER_ROW, 1, width)

    first = _HEADER_ROW + 1
    count = max(_MIN_EMPTY_ROWS, len(ctx.current_individuals) + 20)
    for i in range(count):
        row = first + i
        _put(ws, row, 1, i + 1).alignment = Alignment(horizontal="center")
        values = ctx.current_individuals[i] if i < len(ctx.current_individuals) else ("", "", "")
        for col, value in enumerate(values, start=2):
            cell = _put(ws, row, col, value or None)
            # Text format keeps a typed "1/2" or "012" as typed instead of a date or a number.
            cell.number_format = "@"
    _border_box(ws, range(first, first + count), range(1, width + 1))

    last_validated = first + max(count, _VALIDATED_ROWS) - 1
    collective_dv = _list_validation(
        f"{LISTS_SHEET}!$C$2:$C${1 + len(collective_choices)}",
        "Danh hiệu tập thể",
        "Chọn danh hiệu tập thể, hoặc “Không đăng ký”.",
    )
    collective_dv.add(f"C{_COLLECTIVE_ROW}")
    ws.add_data_validation(collective_dv)
    if individual_choices:
        title_dv = _list_validation(
            f"{LISTS_SHEET}!$D$2:$D${1 + len(individual_choices)}",
            "Danh hiệu đăng ký",
            "Chọn danh hiệu trong danh sách.",
        )
        title_dv.add(f"D{first}:D{last_validated}")
        ws.add_data_validation(title_dv)

    for col, text in enumerate((TEMPLATE_MARKER, ctx.campaign_code, ctx.unit_code), start=1):
        _put(ws, col, _MARKER_COL, text)
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

    wb.properties.title = _clean(f"Phiếu đăng ký thi đua — {ctx.campaign_title} — {ctx.unit_name}")
    wb.properties.creator = CREATOR
    wb.properties.lastModifiedBy = CREATOR
    wb.active = 0
    return _save(wb)


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
        _put(ws, row, 1, text)
    _put(ws, 1, 3, "Danh hiệu tập thể")
    _put(ws, 1, 4, "Danh hiệu cá nhân")
    for row, text in enumerate(collective_choices, start=2):
        _put(ws, row, 3, text)
    for row, text in enumerate(individual_choices, start=2):
        _put(ws, row, 4, text)
    for letter in "ACD":
        ws.column_dimensions[letter].width = 40


# ---------------------------------------------------------------------------
# Reading a returned template

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
    if "họ và tên" not in folded:
        return None
    name = folded.index("họ và tên")
    position = folded.index("chức vụ") if "chức vụ" in folded else name + 1
    title = next(
        (i for i, t in enumerate(folded) if t.startswith("danh hiệu") and i != name), name + 2
    )
    return name, min(position, _READ_COLS - 1), min(title, _READ_COLS - 1)


def _collective_in(texts: Sequence[str], current: str | None) -> str | None:
    """The collective title if this row holds its label, else what was found before."""
    for i, text in enumerate(texts[: _MARKER_COL - 1]):
        if text.casefold().startswith("danh hiệu tập thể"):
            value = next((t for t in texts[i + 1 : _MARKER_COL - 1] if t), "")
            return value or None
    return current

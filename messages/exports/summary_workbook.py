"""The office's summary workbook (`/tonghop`, `thiduabot export`): an overview sheet linking to
two sheets per campaign and one per quarter of the plan."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.cells import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    HEADER_FONT,
    TITLE_FONT,
    border_box,
    display_len,
    put,
    safe_sheet_name,
    save,
    signed,
    style_header,
)
from messages.exports.registration_sheets import fill_individuals, fill_registrations
from messages.exports.summary_inputs import CampaignRegistrations, OfficeSummary, QuarterTasks
from messages.exports.task_sheet import fill_tasks, quarter_totals
from messages.exports.words import export_words

_WORDS = export_words("summary")
_SHEETS = _WORDS["sheets"]


def summary_workbook(summary: OfficeSummary) -> bytes:
    """The office summary (as `storage.summary.office_summary` gives it) as an Excel workbook."""
    return build_summary_workbook(
        summary.organization, summary.generated_at, summary.campaigns, summary.quarters
    )


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
    overview.title = safe_sheet_name(_SHEETS["overview"], used)

    campaign_sheets: list[str] = []
    for campaign in campaigns:
        name = _SHEETS["registrations"].format(code=campaign.code)
        reg = wb.create_sheet(safe_sheet_name(name, used))
        fill_registrations(reg, campaign)
        name = _SHEETS["individuals"].format(code=campaign.code)
        fill_individuals(wb.create_sheet(safe_sheet_name(name, used)), campaign)
        campaign_sheets.append(reg.title)
    quarter_sheets: list[str] = []
    for quarter in quarters:
        name = _SHEETS["tasks"].format(year=quarter.year, quarter=quarter.quarter)
        ws = wb.create_sheet(safe_sheet_name(name, used))
        fill_tasks(ws, quarter, generated_at.date())
        quarter_sheets.append(ws.title)

    _fill_overview(
        overview, organization, generated_at, campaigns, quarters, campaign_sheets, quarter_sheets
    )
    signed(wb, _WORDS["document_title"].format(organization=organization))
    return save(wb)


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
    words = _WORDS["overview"]
    put(ws, 1, 1, words["title"]).font = TITLE_FONT
    put(ws, 2, 1, words["organization"]).font = HEADER_FONT
    put(ws, 2, 2, organization)
    put(ws, 3, 1, words["generated_at"]).font = HEADER_FONT
    put(ws, 3, 2, generated_at, number_format=DATETIME_FORMAT).alignment = Alignment(
        horizontal="left"
    )

    row = 5
    put(ws, row, 1, words["campaigns"]).font = Font(bold=True, size=12)
    row += 1
    campaign_header: list[str] = words["campaign_header"]
    for col, text in enumerate(campaign_header, start=1):
        put(ws, row, col, text)
    style_header(ws, row, 1, len(campaign_header))
    if not campaigns:
        row += 1
        put(ws, row, 1, words["no_campaigns"])
    for campaign, sheet in zip(campaigns, campaign_sheets, strict=True):
        row += 1
        _link(put(ws, row, 1, campaign.code), sheet)
        put(ws, row, 2, campaign.title)
        put(ws, row, 3, campaign.registration_deadline, number_format=DATE_FORMAT)
        put(ws, row, 4, sum(1 for u in campaign.units if u.registered))
        put(ws, row, 5, len(campaign.units))
        put(ws, row, 6, sum(len(u.individuals) for u in campaign.units))
        border_box(ws, range(row, row + 1), range(1, len(campaign_header) + 1))

    row += 2
    put(ws, row, 1, words["quarters"]).font = Font(bold=True, size=12)
    row += 1
    quarter_header: list[str] = words["quarter_header"]
    for col, text in enumerate(quarter_header, start=1):
        put(ws, row, col, text)
    style_header(ws, row, 1, len(quarter_header))
    if not quarters:
        row += 1
        put(ws, row, 1, words["no_quarters"])
    today = generated_at.date()
    for quarter, sheet in zip(quarters, quarter_sheets, strict=True):
        row += 1
        done, responsible = quarter_totals(quarter)
        due = {no: when for no, _content, when in quarter.tasks}
        overdue = sum(
            1
            for key in quarter.responsible
            if key not in quarter.done and (when := due.get(key[1])) is not None and when < today
        )
        label = words["quarter"].format(quarter=quarter.quarter, year=quarter.year)
        _link(put(ws, row, 1, label), sheet)
        put(ws, row, 2, len(quarter.tasks))
        put(ws, row, 3, done)
        put(ws, row, 4, responsible)
        # An empty ratio cell reads better than a division by zero.
        put(ws, row, 5, done / responsible if responsible else None, number_format="0%")
        put(ws, row, 6, overdue)
        border_box(ws, range(row, row + 1), range(1, len(quarter_header) + 1))

    widths = (16, 48, 14, 14, 14, 18)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    longest_title = max((display_len(c.title) for c in campaigns), default=0)
    ws.column_dimensions["B"].width = min(max(longest_title + 2, 30, len(organization) + 2), 60)
    ws.page_setup.orientation = "landscape"

"""A campaign's two sheets in the summary workbook: registrations per unit, and the individuals."""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.cells import (
    CENTER,
    DATETIME_FORMAT,
    HEADER_FONT,
    MIN_WIDTH,
    TOTAL_FILL,
    border_box,
    dmy,
    fit_columns,
    landscape,
    put,
    style_header,
    title_row,
)
from messages.exports.registration_template import NO_COLLECTIVE_TITLE
from messages.exports.summary_inputs import CampaignRegistrations
from messages.exports.words import export_words

_REGISTRATIONS = export_words("summary")["registrations"]
_INDIVIDUALS = export_words("summary")["individuals"]


def _registration_columns(campaign: CampaignRegistrations) -> tuple[list[str], bool]:
    """Title columns, and whether an extra column is needed for titles outside the list."""
    titles = list(dict.fromkeys(campaign.individual_titles))
    known = set(titles)
    other = any(t not in known for u in campaign.units for _n, _p, t in u.individuals)
    return titles, other


def fill_registrations(ws: Worksheet, campaign: CampaignRegistrations) -> None:
    """One row per unit: registered or not, when, the collective title, people per title."""
    words = _REGISTRATIONS
    title = words["title"].format(title=campaign.title, code=campaign.code)
    if campaign.registration_deadline is not None:
        title += words["deadline"].format(deadline=dmy(campaign.registration_deadline))
    title_row(ws, title)

    titles, other = _registration_columns(campaign)
    header: list[str] = [*words["header"], *titles]
    if other:
        header.append(words["other_titles"])
    header.append(words["people"])
    head = 2
    for col, text in enumerate(header, start=1):
        put(ws, head, col, text)
    style_header(ws, head, 1, len(header))

    first_title_col = 6
    listed = set(titles)
    sums = [0] * (len(titles) + (1 if other else 0))
    row = head
    for unit in campaign.units:
        row += 1
        put(ws, row, 1, unit.unit_code)
        put(ws, row, 2, unit.unit_name)
        registered = words["registered"] if unit.registered else words["not_registered"]
        put(ws, row, 3, registered).alignment = CENTER
        put(ws, row, 4, unit.registered_at, number_format=DATETIME_FORMAT)
        if unit.collective_title is not None:
            collective = unit.collective_title
        else:
            collective = NO_COLLECTIVE_TITLE if unit.registered else ""
        put(ws, row, 5, collective)
        counts = [sum(1 for _n, _p, t in unit.individuals if t == title) for title in titles]
        if other:
            counts.append(sum(1 for _n, _p, t in unit.individuals if t not in listed))
        for i, count in enumerate(counts):
            put(ws, row, first_title_col + i, count)
            sums[i] += count
        put(ws, row, len(header), len(unit.individuals))
    last_unit_row = row

    row += 1
    put(ws, row, 1, words["total"])
    put(ws, row, 2, words["units"].format(count=len(campaign.units)))
    put(ws, row, 3, sum(1 for u in campaign.units if u.registered)).alignment = CENTER
    put(ws, row, 5, sum(1 for u in campaign.units if u.collective_title is not None))
    for i, total in enumerate(sums):
        put(ws, row, first_title_col + i, total)
    put(ws, row, len(header), sum(len(u.individuals) for u in campaign.units))
    for col in range(1, len(header) + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = HEADER_FONT
        cell.fill = TOTAL_FILL

    border_box(ws, range(head + 1, row + 1), range(1, len(header) + 1))
    fit_columns(ws, range(head, row + 1), range(1, len(header) + 1))
    # Counting columns stay narrow even though their header is long: the header wraps.
    for col in range(first_title_col, len(header) + 1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = min(
            max(MIN_WIDTH + 4, len(header[col - 1]) // 2 + 4), 24
        )
    ws.row_dimensions[head].height = 32
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(header))}{max(last_unit_row, head)}"
    landscape(ws, f"{head}:{head}")


def fill_individuals(ws: Worksheet, campaign: CampaignRegistrations) -> None:
    """Every registered person, one row each, with their unit."""
    words = _INDIVIDUALS
    title_row(ws, words["title"].format(title=campaign.title, code=campaign.code))
    header: list[str] = words["header"]
    head = 2
    for col, text in enumerate(header, start=1):
        put(ws, head, col, text)
    style_header(ws, head, 1, len(header))
    row = head
    for unit in campaign.units:
        for full_name, position, title in unit.individuals:
            row += 1
            for col, value in enumerate(
                (unit.unit_code, unit.unit_name, full_name, position, title), start=1
            ):
                put(ws, row, col, value)
    last = row
    border_box(ws, range(head + 1, last + 1), range(1, len(header) + 1))
    if last == head:
        put(ws, head + 1, 1, words["none"])
    fit_columns(ws, range(head, max(last, head) + 1), range(1, len(header) + 1))
    ws.freeze_panes = ws.cell(row=head + 1, column=1)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(len(header))}{last}"
    landscape(ws, f"{head}:{head}")

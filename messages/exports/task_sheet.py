"""A quarter's sheet in the summary workbook: a unit per row, a task per column, what is done."""

from __future__ import annotations

import math
from datetime import date

from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from messages.exports.cells import (
    CENTER,
    CREATOR,
    DONE_FILL,
    HEADER_FONT,
    OVERDUE_FILL,
    TOTAL_FILL,
    border_box,
    clean,
    dmy,
    fit_columns,
    landscape,
    put,
    style_header,
    title_row,
)
from messages.exports.summary_inputs import QuarterTasks
from messages.exports.words import export_words

_WORDS = export_words("summary")["tasks"]
_DASH = "—"  # no due date; or must do, not done yet (the sheet's title explains the marks)


def quarter_totals(quarter: QuarterTasks) -> tuple[int, int]:
    """(done, responsible) counted over the cells a unit must do."""
    responsible = len(quarter.responsible)
    done = sum(1 for key in quarter.responsible if key in quarter.done)
    return done, responsible


def fill_tasks(ws: Worksheet, quarter: QuarterTasks, today: date) -> None:
    """Which unit must do which task and when each did it; overdue cells stand out."""
    words = _WORDS
    title_row(ws, words["title"].format(quarter=quarter.quarter, year=quarter.year))
    head, due_row = 2, 3
    last_col = len(quarter.tasks) + 3
    put(ws, head, 1, words["unit_code"])
    put(ws, head, 2, words["unit_name"])
    put(ws, due_row, 2, words["due"])
    for i, (number, content, due) in enumerate(quarter.tasks):
        col = 3 + i
        label = words["task"].format(number=number)
        cell = put(ws, head, col, label)
        # The content is often a paragraph: the header stays short and shows it on hover.
        comment = Comment(clean(content) or label, CREATOR)
        comment.width = 320
        comment.height = max(80, 20 * math.ceil(len(content) / 45) + 20)
        cell.comment = comment
        put(ws, due_row, col, words["task_due"].format(due=dmy(due)) if due is not None else _DASH)
    put(ws, head, last_col, words["ratio"])
    style_header(ws, head, 1, last_col)
    style_header(ws, due_row, 1, last_col)
    # The code and ratio columns span both header rows; the name column labels the due-date row.
    for col in (1, last_col):
        ws.merge_cells(start_row=head, start_column=col, end_row=due_row, end_column=col)

    due_by_task = {number: due for number, _content, due in quarter.tasks}
    row = due_row
    per_task_done = [0] * len(quarter.tasks)
    per_task_resp = [0] * len(quarter.tasks)
    for unit_code, unit_name in quarter.units:
        row += 1
        put(ws, row, 1, unit_code)
        put(ws, row, 2, unit_name)
        done_count = resp_count = 0
        for i, (number, _content, _due) in enumerate(quarter.tasks):
            key = (unit_code, number)
            must = key in quarter.responsible
            done_on = quarter.done.get(key)
            cell = ws.cell(row=row, column=3 + i)
            if done_on is not None:
                put(ws, row, 3 + i, f"✓ {done_on.strftime('%d/%m')}")
                cell.fill = DONE_FILL
            elif must:
                put(ws, row, 3 + i, _DASH)
                due = due_by_task[number]
                if due is not None and due < today:
                    cell.fill = OVERDUE_FILL
            cell.alignment = CENTER
            if must:
                resp_count += 1
                per_task_resp[i] += 1
                # Done cells outside the unit's duties are shown but not counted.
                if done_on is not None:
                    done_count += 1
                    per_task_done[i] += 1
        put(ws, row, last_col, f"{done_count}/{resp_count}").alignment = CENTER
    last_unit_row = row

    row += 1
    put(ws, row, 1, words["total"])
    put(ws, row, 2, words["units_done"])
    for i in range(len(quarter.tasks)):
        put(ws, row, 3 + i, f"{per_task_done[i]}/{per_task_resp[i]}").alignment = CENTER
    done, responsible = quarter_totals(quarter)
    put(ws, row, last_col, f"{done}/{responsible}").alignment = CENTER
    for col in range(1, last_col + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = HEADER_FONT
        cell.fill = TOTAL_FILL

    border_box(ws, range(due_row + 1, row + 1), range(1, last_col + 1))
    fit_columns(ws, range(due_row + 1, row + 1), range(1, 3))
    for col in range(3, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 15
    ws.freeze_panes = ws.cell(row=due_row + 1, column=3)
    ws.auto_filter.ref = f"A{due_row}:{get_column_letter(last_col)}{last_unit_row}"
    landscape(ws, f"{head}:{due_row}")

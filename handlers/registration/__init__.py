"""`/dangky`: a unit registers for emulation in a campaign (form 2 collective, form 1 people)."""

from __future__ import annotations

from telegram.ext import CommandHandler, MessageHandler, filters

from handlers.common import route
from handlers.registration.draft import FLOW, PREFIX, Act, Draft, State
from handlers.registration.steps import (
    choose_campaign,
    choose_title,
    edit,
    fresh,
    keep,
    no_people,
    people_text,
    redo,
    resume,
    start,
)
from handlers.registration.summary import (
    cancel,
    confirm,
    names_as_suggested,
    names_as_typed,
    not_expected,
    show_summary,
)
from handlers.registration.workbook import people_file, send_template

__all__ = ["FLOW", "Draft", "State", "handlers"]

XLSX = filters.Document.FileExtension("xlsx") | filters.Document.MimeType(
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)
TYPED = filters.TEXT & ~filters.COMMAND

# The state table: what each step takes (PRODUCT §5 Registration).
FLOW.entries = [CommandHandler("dangky", start), route(PREFIX, Act.REDO, redo)]
FLOW.steps = {
    State.CAMPAIGN: [route(PREFIX, Act.CAMPAIGN, choose_campaign)],
    State.TITLE: [
        route(PREFIX, Act.TITLE, choose_title),
        route(PREFIX, Act.TEMPLATE, send_template),
        MessageHandler(XLSX, people_file),
    ],
    State.PEOPLE: [
        MessageHandler(TYPED, people_text),
        MessageHandler(XLSX, people_file),
        route(PREFIX, Act.NO_PEOPLE, no_people),
        route(PREFIX, Act.SUMMARY, show_summary),
        route(PREFIX, Act.TEMPLATE, send_template),
    ],
    State.RESUME: [route(PREFIX, Act.RESUME, resume), route(PREFIX, Act.FRESH, fresh)],
    State.NAMES: [
        route(PREFIX, Act.NAMES_FIX, names_as_suggested),
        route(PREFIX, Act.NAMES_KEEP, names_as_typed),
    ],
    State.CONFIRM: [
        route(PREFIX, Act.CONFIRM, confirm),
        route(PREFIX, Act.EDIT, edit),
        route(PREFIX, Act.CANCEL, cancel),
    ],
}
FLOW.on_cancel, FLOW.on_unexpected = cancel, not_expected


def handlers() -> list[object]:
    """The registration flow, and the button under the current registration."""
    return [FLOW, route(PREFIX, Act.KEEP, keep)]

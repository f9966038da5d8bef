"""/nophoso, a unit's dossier files: campaign → nominee (or add one) → document → the file
(handlers.dossier.upload, .nominee); and a file sent outside it, placed with buttons
(.stray). The conversation is wired here; the stray-file handlers are registered apart,
after every conversation."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from handlers.common import guard, route
from handlers.dossier.draft import FLOW, PREFIX, Act, State
from handlers.dossier.nominee import (
    ask_award,
    choose_award,
    choose_target,
    nominee_name,
    press_a_button,
    turn_awards_page,
)
from handlers.dossier.stray import stray_document, stray_handlers, stray_photo
from handlers.dossier.upload import (
    back_to_documents,
    cancel,
    choose_campaign,
    choose_document,
    choose_nominee,
    file_received,
    finish,
    photo_in_flow,
    start,
    turn_nominees_page,
)
from handlers.flow import current_slot
from handlers.runtime import BotContext
from messages import render
from storage.models import Role

__all__ = ["handlers", "stray_handlers"]


TYPED = filters.TEXT & ~filters.COMMAND


@guard(Role.FOCAL)
async def not_this_step(update: Update, context: BotContext) -> None:
    """A message the step does not take: a file is kept as one sent outside the flow (and the
    unit asked where it belongs), so nothing sent is lost; anything else is told what the step
    expects."""
    message = update.effective_message
    assert message is not None
    if message.document is not None:
        await stray_document(update, context)
    elif message.photo:
        await stray_photo(update, context)
    else:
        slot = current_slot()
        step = slot.stored.step if slot is not None and slot.stored is not None else None
        await message.reply_text(render("dossier/expects", step=step))


# The state table: what each step takes (PRODUCT §5 Dossier upload).
FLOW.entries = [CommandHandler("nophoso", start)]
FLOW.steps = {
    State.CAMPAIGN: [route(PREFIX, Act.CAMPAIGN, choose_campaign)],
    State.NOMINEE: [
        route(PREFIX, Act.NOMINEE, choose_nominee),
        route(PREFIX, Act.ADD, ask_award),
        route(PREFIX, Act.NOMINEES_PAGE, turn_nominees_page),
    ],
    State.AWARD: [
        route(PREFIX, Act.AWARD, choose_award),
        route(PREFIX, Act.AWARDS_PAGE, turn_awards_page),
        MessageHandler(TYPED, press_a_button),
    ],
    State.TARGET: [
        route(PREFIX, Act.TARGET, choose_target),
        MessageHandler(TYPED, press_a_button),
    ],
    State.NAME: [MessageHandler(TYPED, nominee_name)],
    State.DOCUMENT: [
        route(PREFIX, Act.DOCUMENT, choose_document),
        route(PREFIX, Act.DONE, finish),
    ],
    State.FILE: [
        MessageHandler(filters.Document.ALL, file_received),
        MessageHandler(filters.PHOTO, photo_in_flow),
        MessageHandler(TYPED, back_to_documents),
    ],
}
FLOW.on_cancel, FLOW.on_unexpected = cancel, not_this_step


def handlers() -> list[object]:
    """The upload flow."""
    return [FLOW]

"""What /nophoso and the placing of a file sent outside it both show: a slot's document
buttons (short labels), the "received" line, the answer to a button that is not the unit's."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, Update

from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import text_button
from messages.text import short_labels
from storage.dossier_status import DocumentStatus
from storage.uploads import Placed

MAX_BUTTONS = 90  # Telegram allows 100 per keyboard; a few are kept for the fixed ones
LABEL = 56  # characters of a document's name on its button


def document_buttons(
    statuses: Sequence[DocumentStatus], prefix: str, *ids: int, marked: bool = False
) -> list[InlineKeyboardButton]:
    """One button per document of a slot, the optional mark on the optional ones."""
    shown = statuses[:MAX_BUTTONS]
    labels = short_labels([s.document.name for s in shown], LABEL)
    return [
        text_button(
            render_text(
                "buttons/document",
                label=label,
                document=s.document,
                done=s.upload is not None,
                marked=marked,
            ),
            prefix,
            "d",
            *ids,
            s.document.id,
        )
        for s, label in zip(shown, labels, strict=True)
    ]


def placed_text(context: BotContext, placed: Placed) -> str:
    """The file received: its name, which version it is, and an identical earlier one."""
    return render(
        "dossier/received",
        name=placed.upload.original_name,
        version=placed.version,
        same_as=placed.same_as.uploaded_at.astimezone(context.rt.tz) if placed.same_as else None,
    )


async def refuse_press(update: Update) -> None:
    """A button that is not (or no longer) the unit's: a pop-up, nothing else."""
    if update.callback_query is not None:
        await update.callback_query.answer(render_text("alerts/dossier_not_yours"), show_alert=True)

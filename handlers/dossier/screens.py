"""What /nophoso and the placing of a file sent outside it share: a slot's document buttons
(short labels), placing the file (the office told when it reopens an approved dossier), the
"received" line, the answer to a button that is not the unit's."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, Update

from handlers.common import local_today
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import text_button
from messages.text import short_labels
from storage.dossier_slots import place_in_slot
from storage.dossier_status import DocumentStatus
from storage.review_decisions import tell_office
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


async def place_file(
    context: BotContext,
    upload_id: int,
    *,
    campaign_id: int,
    nominee_id: int | None,
    document_id: int | None,
) -> Placed | None:
    """Put the member's file in a slot, re-checked; a file that reopens an approved dossier
    tells the office in the same transaction (PRODUCT §8: what was approved is what it saw)."""
    member, now = context.member, context.rt.now()
    assert member is not None
    async with context.rt.db.write() as session:
        placed = await place_in_slot(
            session,
            upload_id,
            campaign_id=campaign_id,
            unit_id=member.unit_id,
            nominee_id=nominee_id,
            document_id=document_id,
            now=now,
            today=local_today(context),
        )
        if placed is not None and placed.reopened:
            reopened, unit = placed.reopened, member.unit_name
            key = f"reopened:{placed.upload.id}"
            await tell_office(
                session,
                member.organization_id,
                key,
                lambda: render("review/reopened", nominees=reopened, unit=unit),
                now,
                context.rt.fan_out(),
            )
    if placed is not None and placed.reopened:
        context.rt.poke()
    return placed

"""A file sent outside /nophoso: kept at once, then placed with buttons (campaign → nominee →
document), each press re-checked against the unit."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from handlers.common import guard, local_today
from handlers.dossier.receive import ACCEPTED, receive
from handlers.dossier.screens import document_buttons, place_file, placed_text, refuse_press
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import int_arg, pattern, unpack
from messages.keyboards import button, grid, paged, rows, text_button
from messages.text import short_labels
from storage.dossier_slots import (
    campaigns_taking_files,
    document_of,
    has_nominee,
    slot_documents,
    stray_and_dossier,
)
from storage.dossier_status import DossierStatus
from storage.models import RequiredDocument, Role, Upload
from storage.requirements import accepts

PLACE = "pl"  # placing a file that came outside /nophoso
# The buttons' data say how far the placement has got, each step adding one id:
#   pl:c:<upload>:<campaign>                       campaign chosen: which slot?
#   pl:n:<upload>:<campaign>:<nominee>             slot chosen (0: the unit's own): which document?
#   pl:d:<upload>:<campaign>:<nominee>:<document>  document chosen (0: another one): place the file
#   pl:c:<upload>:<campaign>:<page>                another page of the slots
_IDS_OF = {"c": 2, "n": 3, "d": 4}


@dataclass(frozen=True, slots=True)
class Placement:
    """What a placement button says: the file, the campaign, and as far as chosen the slot
    (`nominee_id` None: the unit's own documents) and the document (None: another one)."""

    action: str
    upload_id: int
    campaign_id: int
    nominee_id: int | None = None
    document_id: int | None = None
    page: int = 0  # of the slots, when there are many nominees

    def ids(self) -> tuple[int, ...]:
        """The ids as the buttons carry them (0 for None), up to the slot."""
        return self.upload_id, self.campaign_id, self.nominee_id or 0


class Step(enum.Enum):
    """What a press of a placement button leads to."""

    ASK_SLOT = "ask_slot"
    ASK_DOCUMENT = "ask_document"
    WRONG_FORMAT = "wrong_format"
    PLACE = "place"
    REFUSE = "refuse"


def parse_placement(data: str | None) -> Placement | None:
    """The placement a button's data say, or None for data no button of ours carries."""
    parsed = unpack(data, PLACE)
    if parsed is None:
        return None
    action, args = parsed
    numbers = [int_arg(args, i) for i in range(len(args))]
    ids = [n for n in numbers if n is not None]
    if len(ids) != len(numbers):
        return None
    if action == "c" and len(ids) == 3:
        return Placement(action, ids[0], ids[1], page=ids[2])
    if _IDS_OF.get(action) != len(ids):
        return None
    extra = [n or None for n in ids[2:]]  # 0 on a button: the unit's own / another document
    return Placement(action, ids[0], ids[1], *extra)


def placement_document(placement: Placement, dossier: DossierStatus) -> RequiredDocument | None:
    """The document the placement names, if its slot asks for it."""
    if placement.document_id is None:
        return None
    statuses, _ = slot_documents(dossier, placement.nominee_id)
    return document_of(statuses, placement.document_id)


def next_step(placement: Placement, dossier: DossierStatus, kind: str) -> Step:
    """Where a press leads, given the unit's dossier and the kind of the file (pdf, docx…)."""
    if placement.action == "c":
        return Step.ASK_SLOT
    if placement.nominee_id is not None and not has_nominee(dossier, placement.nominee_id):
        return Step.REFUSE
    if placement.action == "n":
        return Step.ASK_DOCUMENT
    if placement.document_id is None:
        return Step.PLACE  # "another document": whatever its type
    document = placement_document(placement, dossier)
    if document is None:
        return Step.REFUSE
    return Step.PLACE if accepts(document, kind) else Step.WRONG_FORMAT


@guard(Role.FOCAL)
async def stray_document(update: Update, context: BotContext) -> None:
    """A file sent outside /nophoso: keep it at once, then ask where it belongs."""
    assert update.effective_message is not None and context.member is not None
    received = await receive(update.effective_message, context, context.member)
    if received is None:
        return
    upload_id = received.upload.id
    async with context.rt.db.read() as session:
        campaigns = await campaigns_taking_files(
            session, context.member.unit_id, context.rt.now(), local_today(context)
        )
    if not campaigns:
        await update.effective_message.reply_text(render("dossier/stray_kept_no_campaign"))
        return
    labels = short_labels([c.title for c in campaigns], 60)
    buttons = [
        text_button(label, PLACE, "c", upload_id, c.id)
        for label, c in zip(labels, campaigns, strict=True)
    ]
    await update.effective_message.reply_text(
        render("dossier/stray_where", name=received.upload.original_name),
        reply_markup=rows(buttons),
    )


@guard(Role.FOCAL)
async def stray_photo(update: Update, context: BotContext) -> None:
    """A photo outside any flow."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))


@guard(Role.FOCAL)
async def place_stray(update: Update, context: BotContext) -> None:
    """The placement buttons of a stray file: campaign → nominee → document, each re-checked."""
    assert update.callback_query is not None and context.member is not None
    placement = parse_placement(update.callback_query.data)
    found = await _stray_and_dossier(context, placement) if placement is not None else None
    if placement is None or found is None:
        await refuse_press(update)
        return
    upload, dossier = found
    match next_step(placement, dossier, upload.stored_file.kind):
        case Step.ASK_SLOT:
            await _ask_slot(update, placement, dossier)
        case Step.ASK_DOCUMENT:
            await say_anew(
                update, render("dossier/stray_which_document"), _documents(placement, dossier)
            )
        case Step.WRONG_FORMAT:
            await _wrong_format(update, placement, dossier, upload)
        case Step.PLACE:
            await _place(update, context, placement)
        case Step.REFUSE:
            await refuse_press(update)


async def _stray_and_dossier(
    context: BotContext, placement: Placement
) -> tuple[Upload, DossierStatus] | None:
    """The file the placement names and the unit's dossier of its campaign, if both are the
    unit's to use today."""
    assert context.member is not None
    async with context.rt.db.read() as session:
        return await stray_and_dossier(
            session,
            placement.upload_id,
            placement.campaign_id,
            unit_id=context.member.unit_id,
            now=context.rt.now(),
            today=local_today(context),
        )


async def _ask_slot(update: Update, placement: Placement, dossier: DossierStatus) -> None:
    """Which slot: the unit's own documents (if the campaign asks for any) or a nominee."""
    upload_id, campaign_id, _ = placement.ids()
    labels = short_labels([n.nominee.name for n in dossier.nominees], 50)
    nominees = [
        text_button(label, PLACE, "n", upload_id, campaign_id, n.nominee.id)
        for label, n in zip(labels, dossier.nominees, strict=True)
    ]
    layout, _ = paged(nominees, placement.page, PLACE, "c", upload_id, campaign_id)
    if dossier.unit_documents:
        layout.insert(0, [button("unit_documents", PLACE, "n", upload_id, campaign_id, 0)])
    await say_anew(update, render("dossier/stray_which_nominee", dossier=dossier), grid(layout))


def _documents(placement: Placement, dossier: DossierStatus) -> InlineKeyboardMarkup:
    """The slot's document buttons and "another document"."""
    statuses, _ = slot_documents(dossier, placement.nominee_id)
    buttons = document_buttons(statuses, PLACE, *placement.ids())
    buttons.append(button("other_document", PLACE, "d", *placement.ids(), 0))
    return rows(buttons)


async def _wrong_format(
    update: Update, placement: Placement, dossier: DossierStatus, upload: Upload
) -> None:
    """The document takes no file of this type: the file stays kept, the buttons stay."""
    refused = render(
        "dossier/refused_format",
        document=placement_document(placement, dossier),
        kind=upload.stored_file.kind,
        name=upload.original_name,
        kept=True,
    )
    await say_anew(update, refused, _documents(placement, dossier))


async def _place(update: Update, context: BotContext, placement: Placement) -> None:
    """Put the file in its slot (re-checked in the same transaction) and say so."""
    assert context.member is not None
    placed = await place_file(
        context,
        placement.upload_id,
        campaign_id=placement.campaign_id,
        nominee_id=placement.nominee_id,
        document_id=placement.document_id,
    )
    if placed is None:
        await refuse_press(update)
        return
    await say_anew(update, placed_text(context, placed))


def stray_handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """Files and photos outside any flow, and the buttons that place them (after conversations)."""
    return [
        MessageHandler(filters.Document.ALL, stray_document),
        MessageHandler(filters.PHOTO, stray_photo),
        CallbackQueryHandler(place_stray, pattern=pattern(PLACE)),
    ]

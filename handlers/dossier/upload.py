"""/nophoso's own steps: the campaign, the slot (the unit's documents or a nominee), the
document, the file; adding a nominee is handlers.dossier.nominee."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from handlers.common import begin, draft_of, end_conversation, guard, local_today, pressed_number
from handlers.dossier.draft import DRAFT_KEY, FLOW, PREFIX, Act, Draft, State, lost
from handlers.dossier.receive import ACCEPTED, receive
from handlers.dossier.screens import document_buttons, place_file, placed_text, refuse_press
from handlers.eligibility import fitted
from handlers.flow import END
from handlers.replies import say_anew, turn_keyboard
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import button, grid, paged, rows, text_button
from messages.text import short_labels
from storage.dossier_slots import (
    campaigns_taking_files,
    slot_document,
    slot_documents,
    unit_dossier,
)
from storage.dossier_status import DossierStatus
from storage.eligibility_hints import nominee_hint
from storage.models import RequiredDocument, Role
from storage.nominees import nominee_for_unit

DOCUMENTS_LISTED = 9  # document lines of a slot in the text; every document has a button


@guard(Role.FOCAL)
async def start(update: Update, context: BotContext) -> int:
    """`/nophoso`: choose the campaign (skipped when only one takes files)."""
    assert context.member is not None
    end_conversation(context, DRAFT_KEY)
    async with context.rt.db.read() as session:
        campaigns = await campaigns_taking_files(
            session, context.member.unit_id, context.rt.now(), local_today(context)
        )
    if not campaigns:
        await say_anew(update, render("dossier/none_open"))
        return END
    if len(campaigns) == 1:
        return await _nominee_step(update, context, campaigns[0].id)
    labels = short_labels([c.title for c in campaigns], 60)
    buttons = [
        text_button(label, PREFIX, Act.CAMPAIGN, c.id)
        for label, c in zip(labels, campaigns, strict=True)
    ]
    await say_anew(update, render("dossier/choose_campaign"), rows(buttons))
    return State.CAMPAIGN


@guard(Role.FOCAL)
async def choose_campaign(update: Update, context: BotContext) -> int:
    """A campaign button, re-checked against the unit."""
    campaign_id = pressed_number(update, PREFIX)
    if campaign_id is None:
        return await lost(update, context)
    return await _nominee_step(update, context, campaign_id)


async def _nominee_step(update: Update, context: BotContext, campaign_id: int) -> int:
    assert context.member is not None
    member = context.member
    today = local_today(context)
    async with context.rt.db.read() as session:
        dossier = await unit_dossier(session, campaign_id, member.unit_id, context.rt.now(), today)
    if dossier is None:  # not the unit's, or taking no files any more
        await refuse_press(update)
        return end_conversation(context, DRAFT_KEY)
    campaign = dossier.campaign
    begin(context, DRAFT_KEY, Draft(unit_id=member.unit_id, campaign_id=campaign.id))
    await say_anew(
        update,
        render("dossier/choose_nominee", campaign=campaign, dossier=dossier),
        _nominee_keyboard(dossier, 0),
    )
    return State.NOMINEE


def _nominee_keyboard(dossier: DossierStatus, page: int) -> InlineKeyboardMarkup:
    """The unit's documents, one page of its nominees (any number of them), "add"."""
    labels = short_labels([f"{n.nominee.name} ({n.award.code})" for n in dossier.nominees], 60)
    nominees = [
        text_button(label, PREFIX, Act.NOMINEE, n.nominee.id)
        for label, n in zip(labels, dossier.nominees, strict=True)
    ]
    layout, _ = paged(nominees, page, PREFIX, Act.NOMINEES_PAGE)
    if dossier.unit_documents:
        layout.insert(0, [button("unit_documents", PREFIX, Act.NOMINEE, 0)])
    layout.append([button("add_nominee", PREFIX, Act.ADD)])
    return grid(layout)


@guard(Role.FOCAL)
@FLOW.with_draft
async def turn_nominees_page(update: Update, context: BotContext, draft: Draft) -> int:
    """A page button under the nominees: the same message, another page of buttons."""
    assert update.callback_query is not None and context.member is not None
    page = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        dossier = await unit_dossier(
            session, draft.campaign_id, draft.unit_id, context.rt.now(), local_today(context)
        )
    if dossier is None or page is None:
        await refuse_press(update)
        return State.NOMINEE
    await turn_keyboard(update, _nominee_keyboard(dossier, page))
    return State.NOMINEE


@guard(Role.FOCAL)
@FLOW.with_draft
async def choose_nominee(update: Update, context: BotContext, draft: Draft) -> int:
    """A nominee button (0: the unit's own documents), re-checked against the unit."""
    nominee_id = pressed_number(update, PREFIX)
    if nominee_id is None:  # data no button of ours carries
        await refuse_press(update)
        return State.NOMINEE
    if nominee_id:
        async with context.rt.db.read() as session:
            nominee = await nominee_for_unit(session, nominee_id, draft.unit_id)
        if nominee is None or nominee.campaign_id != draft.campaign_id:
            await refuse_press(update)
            return State.NOMINEE
    draft.nominee_id = nominee_id or None
    return await document_step(update, context)


async def document_step(update: Update, context: BotContext) -> int:
    """The documents of the chosen slot with ✅/❌, one button each, and "another document"."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert context.member is not None
    if draft is None:
        return await lost(update, context)
    now, hint = context.rt.now(), None
    async with context.rt.db.read() as session:
        dossier = await unit_dossier(session, draft.campaign_id, draft.unit_id, now)
        chosen = (
            [n for n in dossier.nominees if n.nominee.id == draft.nominee_id] if dossier else []
        )
        if dossier is not None and chosen:  # a nominee's documents: the eligibility hint too
            org, (status,) = context.member.organization_id, chosen
            hint = await nominee_hint(
                session, org, dossier.campaign, status.nominee, status.award, now
            )
    if dossier is None:
        return await lost(update, context)
    statuses, title = slot_documents(dossier, draft.nominee_id)
    buttons = document_buttons(statuses, PREFIX, marked=True)
    buttons += [button("other_document", PREFIX, Act.DOCUMENT, 0)]
    buttons += [button("done", PREFIX, Act.DONE)]
    text = fitted(
        lambda detail: render(
            "dossier/choose_document",
            title=title,
            statuses=statuses,
            shown=DOCUMENTS_LISTED,
            eligibility=hint,
            detail=detail,
        )
    )
    await say_anew(update, text, rows(buttons))
    return State.DOCUMENT


@guard(Role.FOCAL)
@FLOW.with_draft
async def choose_document(update: Update, context: BotContext, draft: Draft) -> int:
    """A document button (0: another document), re-checked against the campaign and slot."""
    document_id = pressed_number(update, PREFIX)
    if document_id is None:  # data no button of ours carries
        await refuse_press(update)
        return State.DOCUMENT
    document = None
    if document_id:
        document = await _document_for_slot(context, draft, document_id)
        if document is None:
            await refuse_press(update)
            return State.DOCUMENT
    draft.document_id = document_id or None
    await say_anew(
        update,
        render(
            "dossier/ask_file",
            document=document,
            other=render_text("buttons/other_document"),
            accepted=ACCEPTED,
            limit_mb=context.rt.max_file_bytes // (1024 * 1024),
        ),
    )
    return State.FILE


async def _document_for_slot(
    context: BotContext, draft: Draft, document_id: int
) -> RequiredDocument | None:
    """The document if the draft's slot asks for it (the unit's, or the nominee's award's)."""
    async with context.rt.db.read() as session:
        return await slot_document(
            session,
            campaign_id=draft.campaign_id,
            unit_id=draft.unit_id,
            nominee_id=draft.nominee_id,
            document_id=document_id,
            now=context.rt.now(),
        )


@guard(Role.FOCAL)
@FLOW.with_draft
async def file_received(update: Update, context: BotContext, draft: Draft) -> int:
    """The file for the chosen document: checked, kept, and the list shown again."""
    assert update.effective_message is not None and context.member is not None
    document = None
    if draft.document_id is not None:
        document = await _document_for_slot(context, draft, draft.document_id)
        if document is None:  # dropped from the campaign by a reloaded file meanwhile
            return await lost(update, context)
    received = await receive(update.effective_message, context, context.member, document)
    if received is None:
        return State.FILE
    placed = await place_file(
        context,
        received.upload.id,
        campaign_id=draft.campaign_id,
        nominee_id=draft.nominee_id,
        document_id=draft.document_id,
    )
    if placed is None:
        return await lost(update, context)
    await update.effective_message.reply_text(placed_text(context, placed))
    return await document_step(update, context)


@guard(Role.FOCAL)
async def photo_in_flow(update: Update, context: BotContext) -> int:
    """A picture sent as a photo: say how to send it as a file."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/send_as_file", accepted=ACCEPTED))
    return State.FILE


@guard(Role.FOCAL)
async def back_to_documents(update: Update, context: BotContext) -> int:
    """Text where a file is expected: remind, keep the step."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("dossier/expect_file", accepted=ACCEPTED))
    return State.FILE


@guard(Role.FOCAL)
async def finish(update: Update, context: BotContext) -> int:
    """Done: leave; /hoso shows the whole dossier."""
    await say_anew(update, render("dossier/finished"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def cancel(update: Update, context: BotContext) -> int:
    """/huy: files already received stay received."""
    await say_anew(update, render("dossier/cancelled"))
    return end_conversation(context, DRAFT_KEY)

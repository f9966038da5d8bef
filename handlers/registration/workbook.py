"""The Excel form of `/dangky`: sent pre-filled, read back filled in."""

from __future__ import annotations

from telegram import Message, Update

from handlers.common import (
    guard,
)
from handlers.registration.draft import FLOW, TEMPLATE_MAX_BYTES, Draft, State
from handlers.registration.steps import after_people
from handlers.runtime import BotContext
from handlers.slots import outside_slot
from messages import render
from messages.exports.registration_template import (
    TemplateContext,
    TemplateError,
    TemplateReading,
    build_registration_template,
    read_registration_template,
)
from storage.models import CampaignTitle, Role
from storage.people_lines import (
    Title,
    TitleMatcher,
    people_of_form,
)
from storage.registrations import registration_form_facts


async def _read_form(message: Message) -> TemplateReading | str:
    """The returned form, read; or why it cannot be (a template's `reason`)."""
    assert message.document is not None
    if (message.document.file_size or 0) > TEMPLATE_MAX_BYTES:
        return "too_big"
    async with outside_slot():  # a slow download must not hold a slot others need
        data = bytes(await (await message.document.get_file()).download_as_bytearray())
    try:
        return read_registration_template(data)
    except TemplateError as error:
        return error.reason


@guard(Role.FOCAL)
@FLOW.with_draft
async def people_file(update: Update, context: BotContext, draft: Draft) -> int:
    """The filled Excel template instead of typed lines: read it row by row."""
    message = update.effective_message
    assert message is not None and context.member is not None
    reading = await _read_form(message)
    if isinstance(reading, str):
        await message.reply_text(render("registration/template_unreadable", reason=reading))
        return State.PEOPLE
    async with context.rt.db.read() as session:
        facts = await registration_form_facts(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
    if facts is None or (reading.campaign_code, reading.unit_code) != (
        facts.campaign.code,
        context.member.unit_code,
    ):
        await message.reply_text(render("registration/template_mismatch"))
        return State.PEOPLE
    matcher = _matcher(facts.individual_titles)
    form = people_of_form(
        ((r.row, r.full_name, r.position, r.title) for r in reading.rows),
        reading.collective_title,
        render("registration/no_collective_word"),
        matcher,
        _matcher(facts.collective_titles),
    )
    if form.collective_given:
        draft.collective = form.collective
    draft.people = form.people
    return await after_people(update, context, draft, len(form.people), form.bad, matcher, True)


def _matcher(titles: list[CampaignTitle]) -> TitleMatcher:
    return TitleMatcher(Title(t.id, t.name, t.short) for t in titles)


@guard(Role.FOCAL)
@FLOW.with_draft
async def send_template(update: Update, context: BotContext, draft: Draft) -> int | None:
    """Download the Excel form, pre-filled with what is saved or drafted."""
    member = context.member
    async with context.rt.db.read() as session:
        facts = await registration_form_facts(
            session, draft.campaign_id, member.unit_id, context.rt.now()
        )
    if facts is None:
        return await FLOW.lost(update, context)
    campaign, view = facts.campaign, facts.current
    people = tuple((p.full_name, p.job_title, p.title.name) for p in draft.people)
    collective = draft.collective.name if draft.collective else (view.collective if view else None)
    workbook = build_registration_template(
        TemplateContext(
            campaign_code=campaign.code,
            campaign_title=campaign.title,
            unit_code=member.unit_code,
            unit_name=member.unit_name,
            collective_titles=tuple(t.name for t in facts.collective_titles),
            individual_titles=tuple(t.name for t in facts.individual_titles),
            deadline=campaign.registration_deadline,
            current_collective=collective,
            current_individuals=people or (view.people if view else ()),
        )
    )
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer()
    await update.effective_chat.send_document(
        workbook,
        filename=f"dang-ky-{campaign.code}-{member.unit_code}.xlsx",
        caption=render("registration/template_caption", campaign_title=campaign.title),
    )
    return None  # same step; the filled file is accepted at the title and people steps

"""`/thongbao`: text or a document → audience → preview → send now or at a time → a report."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, Update
from telegram.error import BadRequest
from telegram.ext import (
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import begin, draft_of, end_conversation, guard, pressed_number, route
from handlers.flow import Flow
from handlers.office_scheduled import list_button, waiting_count
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Announce, Prefix
from messages.keyboards import button, grid, label, page_row, rows, text_button
from messages.text import short_labels
from scheduler.due import out_of_quiet_hours
from storage.announcements import choosable_units, reach, save_announcement
from storage.campaigns import all_campaigns
from storage.models import Audience, Role, Unit
from storage.office_scope import office_campaign, office_unit
from storage.units import GroupOfUnits, groups_of_organization
from storage.windows import launched

PREFIX = Prefix.ANNOUNCE
Act = Announce
DRAFT_KEY = "thongbao"
MAX_TEXT = 3500  # room for the heading within Telegram's 4096 characters
LATEST_AHEAD = timedelta(days=365)  # how far ahead an announcement may be scheduled


class State(enum.IntEnum):
    """Where an announcement conversation is."""

    CONTENT = 1
    AUDIENCE = 2
    UNITS = 3
    CAMPAIGN = 4
    PREVIEW = 5
    WHEN = 6


@dataclass(slots=True)
class Draft:
    """The announcement being written; nothing is saved before it is sent or scheduled."""

    unit_id: int
    text: str = ""
    document_file_id: str | None = None
    document_name: str | None = None
    audience: Audience = Audience.ALL
    unit_ids: set[int] = field(default_factory=set)
    campaign_id: int | None = None


FLOW: Flow[Draft, State] = Flow(
    name=DRAFT_KEY, templates="announce", states=State, draft_type=Draft, prefix=PREFIX
)


def _draft(context: BotContext) -> Draft | None:
    return draft_of(context, DRAFT_KEY, Draft)


async def _lost(update: Update, context: BotContext) -> int:
    return await FLOW.lost(update, context)


@guard(Role.OFFICE)
async def start(update: Update, context: BotContext) -> int:
    """`/thongbao`: ask for the content."""
    assert context.member is not None
    begin(context, DRAFT_KEY, Draft(unit_id=context.member.unit_id))
    waiting = list_button(await waiting_count(context))  # buttons/scheduled: see or cancel them
    await say_anew(update, render("announce/ask_content", limit=MAX_TEXT), waiting)
    return State.CONTENT


@guard(Role.OFFICE)
async def content(update: Update, context: BotContext) -> int:
    """The text, or a document with its caption."""
    draft, message = _draft(context), update.effective_message
    assert message is not None
    if draft is None:
        return await _lost(update, context)
    text = (message.text or message.caption or "").strip()
    if message.document is not None:
        draft.document_file_id = message.document.file_id
        draft.document_name = message.document.file_name
    elif not text:
        await message.reply_text(render("announce/ask_content", limit=MAX_TEXT))
        return State.CONTENT
    if len(text) > MAX_TEXT:
        await message.reply_text(render("announce/too_long", limit=MAX_TEXT, length=len(text)))
        return State.CONTENT
    draft.text = text
    choices = [
        button("audience_all", PREFIX, Act.AUDIENCE, 0),
        button("audience_units", PREFIX, Act.AUDIENCE, 1),
        button("audience_missing", PREFIX, Act.AUDIENCE, 2),
    ]
    await message.reply_text(render("announce/ask_audience"), reply_markup=rows(choices))
    return State.AUDIENCE


@guard(Role.OFFICE)
async def audience(update: Update, context: BotContext) -> int:
    """All units, chosen units, or the units still missing something in a campaign."""
    draft, choice = _draft(context), pressed_number(update, PREFIX)
    if draft is None or choice not in (0, 1, 2):
        return await _lost(update, context)
    if choice == 0:
        draft.audience = Audience.ALL
        return await _preview(update, context)
    if choice == 1:
        draft.audience = Audience.UNITS
        return await _pick_units(update, context, fresh=True)
    draft.audience = Audience.MISSING
    async with context.rt.db.read() as session:
        campaigns = await all_campaigns(session, _org(context))
    campaigns = [c for c in campaigns if launched(c, context.rt.now())]
    if not campaigns:
        await say_anew(update, render("announce/no_campaigns"))
        return State.AUDIENCE
    shown = campaigns[-10:]
    labels = short_labels([c.title for c in shown], 60)
    buttons = [
        text_button(label, PREFIX, Act.CAMPAIGN, c.id)
        for label, c in zip(labels, shown, strict=True)
    ]
    await say_anew(update, render("announce/ask_campaign"), rows(buttons))
    return State.CAMPAIGN


def _org(context: BotContext) -> int:
    """The office's organisation: every list and audience of /thongbao is within it."""
    assert context.member is not None
    return context.member.organization_id


UNITS_PER_PAGE = 60  # with the groups, the pages and "done", well under 100 buttons
GROUPS_SHOWN = 20


async def _pick_units(update: Update, context: BotContext, fresh: bool, page: int = 0) -> int:
    draft = _draft(context)
    if draft is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        units = await choosable_units(session, _org(context))
        groups = await groups_of_organization(session, _org(context))
    markup = grid(units_layout(units, groups, draft.unit_ids, page))
    text = render("announce/pick_units", chosen=len(draft.unit_ids))
    if fresh or update.callback_query is None:
        await say_anew(update, text, markup)
    else:
        await update.callback_query.answer()
        with contextlib.suppress(BadRequest):  # nothing changed (an old or a foreign button)
            await update.callback_query.edit_message_text(text, reply_markup=markup)
    return State.UNITS


def units_layout(
    units: Sequence[Unit], groups: Sequence[GroupOfUnits], chosen: set[int], page: int
) -> list[list[InlineKeyboardButton]]:
    """The groups two to a row, one page of the units three to a row, the pages, "done"."""
    pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    marks = [
        text_button(label("unit", code=u.code, chosen=u.id in chosen), PREFIX, Act.UNIT, u.id, page)
        for u in shown
    ]
    # A group (cụm, khối thi đua) chooses or clears all its units at once.
    group_marks = [
        text_button(
            render_text("buttons/group", code=g.code, chosen=g.unit_ids <= chosen),
            PREFIX,
            "g",
            g.id,
        )
        for g in groups
        if g.unit_ids
    ][:GROUPS_SHOWN]
    layout = [group_marks[i : i + 2] for i in range(0, len(group_marks), 2)]
    layout += [marks[i : i + 3] for i in range(0, len(marks), 3)]
    if pages > 1:
        layout.append(page_row(page, pages, PREFIX, "up"))
    layout.append([button("done", PREFIX, Act.UNITS_DONE)])
    return layout


@guard(Role.OFFICE)
async def toggle_unit(update: Update, context: BotContext) -> int:
    """A unit button: add or take it off the list."""
    draft, unit_id = _draft(context), pressed_number(update, PREFIX)
    if draft is None or unit_id is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        unit = await office_unit(session, unit_id, _org(context))
    if unit is not None:
        draft.unit_ids.symmetric_difference_update({unit_id})
    return await _pick_units(
        update, context, fresh=False, page=pressed_number(update, PREFIX, 1) or 0
    )


@guard(Role.OFFICE)
async def units_page(update: Update, context: BotContext) -> int:
    """The page buttons (buttons/page): another page of the units."""
    if _draft(context) is None:
        return await _lost(update, context)
    return await _pick_units(update, context, fresh=False, page=pressed_number(update, PREFIX) or 0)


@guard(Role.OFFICE)
async def toggle_group(update: Update, context: BotContext) -> int:
    """A group button: all its units on the list, or (when all are) off it."""
    draft, group_id = _draft(context), pressed_number(update, PREFIX)
    if draft is None or group_id is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        groups = {g.id: g for g in await groups_of_organization(session, _org(context))}
    group = groups.get(group_id)  # another body's group is as unknown as a made-up id
    if group is not None:
        if group.unit_ids <= draft.unit_ids:
            draft.unit_ids.difference_update(group.unit_ids)
        else:
            draft.unit_ids.update(group.unit_ids)
    return await _pick_units(update, context, fresh=False)


@guard(Role.OFFICE)
@FLOW.with_draft
async def units_done(update: Update, context: BotContext, draft: Draft) -> int:
    """The done button (buttons/done) after choosing units."""
    if not draft.unit_ids:
        assert update.callback_query is not None
        await update.callback_query.answer(render_text("alerts/choose_a_unit"), show_alert=True)
        return State.UNITS
    return await _preview(update, context)


@guard(Role.OFFICE)
async def choose_campaign(update: Update, context: BotContext) -> int:
    """The campaign whose missing units get the announcement."""
    draft, campaign_id = _draft(context), pressed_number(update, PREFIX)
    if draft is None or campaign_id is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        campaign = await office_campaign(session, campaign_id, _org(context))
    if campaign is None:
        return await _lost(update, context)
    draft.campaign_id = campaign_id
    return await _preview(update, context)


async def _preview(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    if draft is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        audience = await reach(
            session, _org(context), draft.audience, draft.unit_ids, draft.campaign_id
        )
    await say_anew(
        update,
        render(
            "announce/preview",
            message=render("push/announcement", text=draft.text),
            document=draft.document_name,
            units=[u.name for u in audience.units],
            people=audience.people,
            unreached=[u.name for u in audience.unreached],
        ),
        grid(
            [
                [
                    button("send_now", PREFIX, Act.NOW),
                    button("send_later", PREFIX, Act.LATER),
                ],
                [button("cancel", PREFIX, Act.CANCEL)],
            ]
        ),
    )
    return State.PREVIEW


@guard(Role.OFFICE)
async def send_now(update: Update, context: BotContext) -> int:
    """The send-now button (buttons/send_now): saved for this instant."""
    return await _save(update, context, context.rt.now())


@guard(Role.OFFICE)
async def ask_when(update: Update, context: BotContext) -> int:
    """The send-later button (buttons/send_later): ask for dd/mm/yyyy hh:mm."""
    await say_anew(update, render("announce/ask_when"))
    return State.WHEN


@guard(Role.OFFICE)
async def when_given(update: Update, context: BotContext) -> int:
    """The time to send, local, in the future."""
    message = update.effective_message
    assert message is not None
    try:
        local = datetime.strptime(" ".join((message.text or "").split()), "%d/%m/%Y %H:%M")
    except ValueError:
        await message.reply_text(render("announce/bad_when"))
        return State.WHEN
    at, now = local.replace(tzinfo=context.rt.tz), context.rt.now()
    if at <= now:
        await message.reply_text(render("announce/past_when"))
        return State.WHEN
    if at > now + LATEST_AHEAD:  # a typo like 31/12/9999: refused here, never scheduled
        latest = (now + LATEST_AHEAD).astimezone(context.rt.tz)
        await message.reply_text(render("announce/far_when", latest=latest))
        return State.WHEN
    return await _save(update, context, at)


async def _save(update: Update, context: BotContext, at: datetime) -> int:
    draft = _draft(context)
    if draft is None or context.member is None or update.effective_chat is None:
        return await _lost(update, context)
    async with context.rt.db.write() as session:
        await save_announcement(
            session,
            organization_id=context.member.organization_id,
            text=draft.text,
            document_file_id=draft.document_file_id,
            document_name=draft.document_name,
            audience=draft.audience,
            unit_ids=draft.unit_ids,
            campaign_id=draft.campaign_id,
            send_at=at,
            by=context.member.telegram_user_id,
            now=context.rt.now(),
            report_chat_id=update.effective_chat.id,
        )
    now = at <= context.rt.now()
    context.rt.poke()
    local = max(at, context.rt.now()).astimezone(context.rt.tz).replace(tzinfo=None)
    goes = out_of_quiet_hours(local)  # nothing is pushed between 21:00 and 07:00
    held = goes if goes != local else None
    await say_anew(
        update,
        render("announce/saved", now=now, at=at.astimezone(context.rt.tz), held=held),
    )
    return end_conversation(context, DRAFT_KEY)


@guard(Role.OFFICE)
async def cancel(update: Update, context: BotContext) -> int:
    """The cancel button or /huy: nothing is sent."""
    await say_anew(update, render("announce/cancelled"))
    return end_conversation(context, DRAFT_KEY)


# The state table: what each step takes (PRODUCT §5 Office /thongbao).
FLOW.entries = [CommandHandler("thongbao", start)]
FLOW.steps = {
    State.CONTENT: [
        MessageHandler((filters.TEXT & ~filters.COMMAND) | filters.Document.ALL, content)
    ],
    State.AUDIENCE: [route(PREFIX, Act.AUDIENCE, audience)],
    State.UNITS: [
        route(PREFIX, Act.UNIT, toggle_unit),
        route(PREFIX, Act.GROUP, toggle_group),
        route(PREFIX, Act.UNITS_PAGE, units_page),
        route(PREFIX, Act.UNITS_DONE, units_done),
    ],
    State.CAMPAIGN: [route(PREFIX, Act.CAMPAIGN, choose_campaign)],
    State.PREVIEW: [route(PREFIX, Act.NOW, send_now), route(PREFIX, Act.LATER, ask_when)],
    State.WHEN: [MessageHandler(filters.TEXT & ~filters.COMMAND, when_given)],
}
for _step in FLOW.steps.values():
    _step.append(route(PREFIX, Act.CANCEL, cancel))  # the cancel button, at every step
FLOW.on_cancel = cancel


def handlers() -> list[object]:
    """The announcement flow."""
    return [FLOW]

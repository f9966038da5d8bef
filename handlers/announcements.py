"""`/thongbao`: text or a document → audience → preview → send now or at a time → a report."""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import (
    draft_of,
    end_conversation,
    flow_handler,
    guard,
    pressed_number,
    route,
    say_anew,
)
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import button, grid, rows
from storage.campaigns import all_campaigns
from storage.dossiers import missing_units
from storage.models import Announcement, Audience, Campaign, Member, Role, Unit
from storage.units import groups_of_organization, units_of_organization

PREFIX = "tb"
DRAFT_KEY = "thongbao"
MAX_TEXT = 3500  # room for the heading within Telegram's 4096 characters


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


def _draft(context: BotContext) -> Draft | None:
    return draft_of(context, DRAFT_KEY, Draft)


async def _lost(update: Update, context: BotContext) -> int:
    await say_anew(update, render("announce/lost"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.OFFICE)
async def start(update: Update, context: BotContext) -> int:
    """`/thongbao`: ask for the content."""
    assert context.member is not None and context.user_data is not None
    context.user_data[DRAFT_KEY] = Draft(unit_id=context.member.unit_id)
    await say_anew(update, render("announce/ask_content", limit=MAX_TEXT))
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
        button(render_text("buttons/audience_all"), PREFIX, "a", 0),
        button(render_text("buttons/audience_units"), PREFIX, "a", 1),
        button(render_text("buttons/audience_missing"), PREFIX, "a", 2),
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
        campaigns = [
            c
            for c in await all_campaigns(session, _org(context))
            if c.launch_at <= context.rt.now()
        ]
    if not campaigns:
        await say_anew(update, render("announce/no_campaigns"))
        return State.AUDIENCE
    buttons = [button(c.title[:60], PREFIX, "c", c.id) for c in campaigns[-10:]]
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
        units = await units_of_organization(session, _org(context))
        groups = await groups_of_organization(session, _org(context))
    pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    page = min(max(page, 0), pages - 1)
    shown = units[page * UNITS_PER_PAGE : (page + 1) * UNITS_PER_PAGE]
    marks = [
        button(("✅ " if u.id in draft.unit_ids else "▫️ ") + u.code, PREFIX, "u", u.id, page)
        for u in shown
    ]
    # A group (cụm, khối thi đua) chooses or clears all its units at once.
    group_marks = [
        button(
            render_text("buttons/group", code=g.code, chosen=g.unit_ids <= draft.unit_ids),
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
        layout.append(
            [
                button(
                    render_text("buttons/page", which=which, page=n + 1, pages=pages),
                    PREFIX,
                    "up",
                    n,
                )
                for which, n in (("prev", page - 1), ("at", page), ("next", page + 1))
                if 0 <= n < pages
            ]
        )
    layout.append([button(render_text("buttons/done"), PREFIX, "ud")])
    text = render("announce/pick_units", chosen=len(draft.unit_ids))
    if fresh or update.callback_query is None:
        await say_anew(update, text, grid(layout))
    else:
        await update.callback_query.answer()
        with contextlib.suppress(BadRequest):  # nothing changed (an old or a foreign button)
            await update.callback_query.edit_message_text(text, reply_markup=grid(layout))
    return State.UNITS


@guard(Role.OFFICE)
async def toggle_unit(update: Update, context: BotContext) -> int:
    """A unit button: add or take it off the list."""
    draft, unit_id = _draft(context), pressed_number(update, PREFIX)
    if draft is None or unit_id is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        unit = await session.get(Unit, unit_id)
        exists = unit is not None and unit.organization_id == _org(context)
    if exists:
        draft.unit_ids.symmetric_difference_update({unit_id})
    return await _pick_units(
        update, context, fresh=False, page=pressed_number(update, PREFIX, 1) or 0
    )


@guard(Role.OFFICE)
async def units_page(update: Update, context: BotContext) -> int:
    """‹ Trước · n/m · Sau ›: another page of the units."""
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
async def units_done(update: Update, context: BotContext) -> int:
    """ "Xong" after choosing units."""
    draft = _draft(context)
    if draft is None:
        return await _lost(update, context)
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
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or campaign.organization_id != _org(context):
            return await _lost(update, context)
    draft.campaign_id = campaign_id
    return await _preview(update, context)


async def _audience_units(context: BotContext, draft: Draft) -> list[Unit]:
    async with context.rt.db.read() as session:
        units = await units_of_organization(session, _org(context))
        if draft.audience is Audience.UNITS:
            return [u for u in units if u.id in draft.unit_ids]
        if draft.audience is Audience.MISSING and draft.campaign_id is not None:
            campaign = await session.get_one(Campaign, draft.campaign_id)
            return await missing_units(session, campaign)
        return await units_of_organization(session, _org(context), reporting_only=True)


async def _preview(update: Update, context: BotContext) -> int:
    draft = _draft(context)
    if draft is None:
        return await _lost(update, context)
    units = await _audience_units(context, draft)
    async with context.rt.db.read() as session:
        people = len(
            list(
                await session.scalars(
                    select(Member.id).where(
                        Member.active.is_(True),
                        Member.role == Role.FOCAL,
                        Member.unit_id.in_([u.id for u in units]),
                    )
                )
            )
        )
    await say_anew(
        update,
        render(
            "announce/preview",
            message=render("push/announcement", text=draft.text),
            document=draft.document_name,
            units=[u.name for u in units],
            people=people,
        ),
        grid(
            [
                [
                    button(render_text("buttons/send_now"), PREFIX, "now"),
                    button(render_text("buttons/send_later"), PREFIX, "later"),
                ],
                [button("cancel", PREFIX, "cancel")],
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
    at = local.replace(tzinfo=context.rt.tz)
    if at <= context.rt.now():
        await message.reply_text(render("announce/past_when"))
        return State.WHEN
    return await _save(update, context, at)


async def _save(update: Update, context: BotContext, at: datetime) -> int:
    draft = _draft(context)
    if draft is None or context.member is None or update.effective_chat is None:
        return await _lost(update, context)
    async with context.rt.db.write() as session:
        announcement = Announcement(
            organization_id=context.member.organization_id,
            text=draft.text,
            document_file_id=draft.document_file_id,
            document_name=draft.document_name,
            audience=draft.audience,
            unit_ids=sorted(draft.unit_ids),
            campaign_id=draft.campaign_id,
            send_at=at,
            created_by=context.member.telegram_user_id,
            created_at=context.rt.now(),
            report_chat_id=update.effective_chat.id,
        )
        session.add(announcement)
    now = at <= context.rt.now()
    context.rt.poke()
    await say_anew(update, render("announce/saved", now=now, at=at.astimezone(context.rt.tz)))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.OFFICE)
async def cancel(update: Update, context: BotContext) -> int:
    """The cancel button or /huy: nothing is sent."""
    await say_anew(update, render("announce/cancelled"))
    return end_conversation(context, DRAFT_KEY)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The announcement conversation."""
    conversation = flow_handler(
        entry_points=[CommandHandler("thongbao", start)],
        states={
            State.CONTENT: [
                MessageHandler((filters.TEXT & ~filters.COMMAND) | filters.Document.ALL, content)
            ],
            State.AUDIENCE: [route(PREFIX, "a", audience)],
            State.UNITS: [
                route(PREFIX, "u", toggle_unit),
                route(PREFIX, "g", toggle_group),
                route(PREFIX, "up", units_page),
                route(PREFIX, "ud", units_done),
            ],
            State.CAMPAIGN: [route(PREFIX, "c", choose_campaign)],
            State.PREVIEW: [route(PREFIX, "now", send_now), route(PREFIX, "later", ask_when)],
            State.WHEN: [MessageHandler(filters.TEXT & ~filters.COMMAND, when_given)],
        },
        fallbacks=[CommandHandler("huy", cancel), route(PREFIX, "cancel", cancel)],
        name="thongbao",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )
    return [conversation]

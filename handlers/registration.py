"""`/dangky`: a unit registers for emulation in a campaign (form 2 collective, form 1 people)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.common import (
    draft_of,
    end_conversation,
    flow_handler,
    guard,
    local_today,
    pressed_number,
    route,
    say_anew,
)
from handlers.people import (
    BadLine,
    Person,
    Problem,
    Title,
    TitleMatcher,
    check_person,
    fold,
    parse_people,
)
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import button, grid, rows
from messages.workbooks import (
    TemplateContext,
    TemplateError,
    build_registration_template,
    read_registration_template,
)
from storage.campaigns import (
    active_titles,
    campaign_for_unit,
    launched_campaigns_of_unit,
    registration_forms,
)
from storage.models import Campaign, Role, Target
from storage.registrations import Person as StoredPerson
from storage.registrations import describe_registration, registration_of, save_registration

DRAFT_KEY = "dangky"
PREFIX = "dk"
TEMPLATE_MAX_BYTES = 2 * 1024 * 1024
SUMMARY_LIMIT = 40


class State(enum.IntEnum):
    """Where a registration conversation is."""

    CAMPAIGN = 1
    EXISTING = 2
    TITLE = 3
    PEOPLE = 4
    CONFIRM = 5


@dataclass(slots=True)
class Draft:
    """What the unit has entered so far; nothing is saved before the confirm button."""

    unit_id: int
    campaign_id: int
    collective: Title | None = None
    collective_chosen: bool = False
    people: list[Person] = field(default_factory=list)
    appending: bool = False


def is_open(campaign: Campaign, today: date) -> bool:
    """Whether the campaign still takes registrations on this (local) day."""
    return campaign.registration_deadline is not None and today <= campaign.registration_deadline


async def _lost(update: Update, context: BotContext) -> int:
    """The draft is gone (timeout, restart or another unit): say so and end."""
    await say_anew(update, render("registration/lost"))
    return ConversationHandler.END


@guard(Role.FOCAL)
async def start(update: Update, context: BotContext) -> int:
    """`/dangky`: choose the campaign (skipped when only one is open)."""
    assert context.member is not None and context.user_data is not None
    context.user_data.pop(DRAFT_KEY, None)
    today = local_today(context)
    async with context.rt.db.read() as session:
        campaigns = [
            c
            for c in await launched_campaigns_of_unit(
                session, context.member.unit_id, context.rt.now()
            )
            if c.registration_deadline is not None
        ]
        registered = {
            c.id for c in campaigns if await registration_of(session, c.id, context.member.unit_id)
        }
    visible = [c for c in campaigns if is_open(c, today) or c.id in registered]
    if not visible:
        await say_anew(update, render("registration/none_open"))
        return ConversationHandler.END
    if len(visible) == 1:
        return await _show_campaign(update, context, visible[0].id)
    buttons = [button(_campaign_label(c, today), PREFIX, "c", c.id) for c in visible]
    await say_anew(update, render("registration/choose_campaign", today=today), rows(buttons))
    return State.CAMPAIGN


def _campaign_label(campaign: Campaign, today: date) -> str:
    title = campaign.title if len(campaign.title) <= 48 else campaign.title[:47] + "…"
    return ("" if is_open(campaign, today) else "🔒 ") + title


@guard(Role.FOCAL)
async def choose_campaign(update: Update, context: BotContext) -> int:
    """A campaign button: re-checked against the unit before anything is shown."""
    campaign_id = pressed_number(update, PREFIX)
    if campaign_id is None:
        return await _lost(update, context)
    return await _show_campaign(update, context, campaign_id)


async def _show_campaign(update: Update, context: BotContext, campaign_id: int) -> int:
    assert context.member is not None and context.user_data is not None
    member, today = context.member, local_today(context)
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(session, campaign_id, member.unit_id, context.rt.now())
        if campaign is None or campaign.registration_deadline is None:
            if update.callback_query is not None:
                await update.callback_query.answer(
                    render_text("alerts/registration_not_yours"), show_alert=True
                )
            return ConversationHandler.END
        existing = await registration_of(session, campaign.id, member.unit_id)
        current = await describe_registration(session, existing) if existing else None
    context.user_data[DRAFT_KEY] = Draft(unit_id=member.unit_id, campaign_id=campaign.id)
    closed = not is_open(campaign, today)
    if closed or current is not None:
        screen = render(
            "registration/current",
            campaign=campaign,
            unit=member.unit_name,
            current=current,
            closed=closed,
            tz=context.rt.tz,
        )
        if closed:
            await say_anew(update, screen)
            return ConversationHandler.END
        choice = grid([[button("redo", PREFIX, "redo"), button("keep", PREFIX, "keep")]])
        await say_anew(update, screen, choice)
        return State.EXISTING
    return await _ask_title(update, context)


async def _ask_title(update: Update, context: BotContext) -> int:
    """The collective title: one button per title of the campaign, or none."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        titles = await active_titles(session, draft.campaign_id, Target.TAP_THE)
        forms = await registration_forms(session, draft.campaign_id)
    if not titles:
        draft.collective, draft.collective_chosen = None, True
        return await _ask_people(update, context)
    buttons = [button(t.name, PREFIX, "t", t.id) for t in titles]
    buttons += [button("no_collective", PREFIX, "t", 0), button("template", PREFIX, "x")]
    await say_anew(update, render("registration/ask_title", forms=forms), rows(buttons))
    return State.TITLE


@guard(Role.FOCAL)
async def redo(update: Update, context: BotContext) -> int:
    """Register again, or edit: start from the collective title, keeping the people."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    draft.appending = False
    return await _ask_title(update, context)


@guard(Role.FOCAL)
async def keep(update: Update, context: BotContext) -> int:
    """Keep: leave the saved registration as it is."""
    await say_anew(update, render("registration/kept"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def choose_title(update: Update, context: BotContext) -> int:
    """A collective-title button: the title must belong to this campaign."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    title_id = pressed_number(update, PREFIX)
    if draft is None or title_id is None:
        return await _lost(update, context)
    if title_id == 0:
        draft.collective = None
    else:
        async with context.rt.db.read() as session:
            titles = {
                t.id: t for t in await active_titles(session, draft.campaign_id, Target.TAP_THE)
            }
        if title_id not in titles:
            assert update.callback_query is not None
            await update.callback_query.answer(
                render_text("alerts/registration_not_yours"), show_alert=True
            )
            return State.TITLE
        draft.collective = Title(title_id, titles[title_id].name, titles[title_id].short)
    draft.collective_chosen = True
    return await _ask_people(update, context)


async def _matcher(context: BotContext, campaign_id: int) -> TitleMatcher:
    async with context.rt.db.read() as session:
        titles = await active_titles(session, campaign_id, Target.CA_NHAN)
    return TitleMatcher(Title(t.id, t.name, t.short) for t in titles)


async def _forms(context: BotContext, campaign_id: int) -> dict[str, str]:
    async with context.rt.db.read() as session:
        return await registration_forms(session, campaign_id)


async def _ask_people(update: Update, context: BotContext) -> int:
    """Ask for the individuals, one per line, or the filled Excel template."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    matcher = await _matcher(context, draft.campaign_id)
    buttons = [button("no_people", PREFIX, "none")]
    if draft.people:
        buttons.append(button("keep_people", PREFIX, "sum"))
    buttons.append(button("template", PREFIX, "x"))
    await say_anew(
        update,
        render(
            "registration/ask_people",
            collective=draft.collective.name if draft.collective else None,
            titles=[
                (t.name, short)
                for t, short in zip(matcher.titles, matcher.abbreviations(), strict=True)
            ],
            kept=len(draft.people),
            forms=await _forms(context, draft.campaign_id),
        ),
        rows(buttons),
    )
    return State.PEOPLE


@guard(Role.FOCAL)
async def people_text(update: Update, context: BotContext) -> int:
    """A message of people: keep the good lines, explain the bad ones."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert update.effective_message is not None
    if draft is None:
        return await _lost(update, context)
    matcher = await _matcher(context, draft.campaign_id)
    base = draft.people if draft.appending else []
    people, bad = parse_people(update.effective_message.text or "", matcher, already=base)
    draft.people = [*base, *people]
    return await _after_people(update, context, draft, len(people), bad, matcher)


async def _after_people(
    update: Update,
    context: BotContext,
    draft: Draft,
    added: int,
    bad: list[BadLine],
    matcher: TitleMatcher,
    in_file: bool = False,
) -> int:
    if not bad:
        draft.appending = False
        return await _summary(update, context)
    draft.appending = True
    await say_anew(
        update,
        render(
            "registration/problems",
            added=added,
            total=len(draft.people),
            bad=bad[:30],
            more=max(len(bad) - 30, 0),
            titles=matcher.abbreviations(),
            in_file=in_file,
        ),
        rows([button("summary", PREFIX, "sum")]) if draft.people else None,
    )
    return State.PEOPLE


@guard(Role.FOCAL)
async def people_file(update: Update, context: BotContext) -> int:
    """The filled Excel template instead of typed lines: read it row by row."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    message = update.effective_message
    assert message is not None and message.document is not None and context.member is not None
    if draft is None:
        return await _lost(update, context)
    document = message.document
    if (document.file_size or 0) > TEMPLATE_MAX_BYTES:
        await message.reply_text(render("registration/template_unreadable", reason="too_big"))
        return State.PEOPLE
    data = bytes(await (await document.get_file()).download_as_bytearray())
    try:
        reading = read_registration_template(data)
    except TemplateError as error:
        await message.reply_text(render("registration/template_unreadable", reason=error.reason))
        return State.PEOPLE
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
        collectives = await active_titles(session, draft.campaign_id, Target.TAP_THE)
    if (
        campaign is None
        or reading.campaign_code != campaign.code
        or reading.unit_code != context.member.unit_code
    ):
        await message.reply_text(render("registration/template_mismatch"))
        return State.PEOPLE
    matcher = await _matcher(context, draft.campaign_id)
    bad: list[BadLine] = []
    if reading.collective_title and fold(reading.collective_title) != fold(
        render("registration/no_collective_word")
    ):
        found = TitleMatcher(Title(t.id, t.name, t.short) for t in collectives).match(
            reading.collective_title
        )
        if found is None:
            bad.append(BadLine(0, reading.collective_title, Problem.TITLE_UNKNOWN))
        else:
            draft.collective, draft.collective_chosen = found, True
    elif reading.collective_title:
        draft.collective, draft.collective_chosen = None, True
    seen: dict[str, int] = {}
    people: list[Person] = []
    for row in reading.rows:
        result = check_person(row.row, row.full_name, row.position, row.title, matcher, seen)
        (people if isinstance(result, Person) else bad).append(result)  # type: ignore[arg-type]
    draft.people = people
    return await _after_people(update, context, draft, len(people), bad, matcher, in_file=True)


@guard(Role.FOCAL)
async def no_people(update: Update, context: BotContext) -> int:
    """No individuals: register the collective title only."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await _lost(update, context)
    draft.people, draft.appending = [], False
    return await _summary(update, context)


@guard(Role.FOCAL)
async def show_summary(update: Update, context: BotContext) -> int:
    """Show the summary: go on with the lines kept so far."""
    return await _summary(update, context)


async def _summary(update: Update, context: BotContext) -> int:
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None or context.member is None:
        return await _lost(update, context)
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
    if campaign is None:
        return await _lost(update, context)
    await say_anew(
        update,
        render(
            "registration/summary",
            campaign=campaign,
            unit=context.member.unit_name,
            collective=draft.collective.name if draft.collective else None,
            people=[(p.full_name, p.job_title, p.title.name) for p in draft.people[:SUMMARY_LIMIT]],
            more=max(len(draft.people) - SUMMARY_LIMIT, 0),
        ),
        grid(
            [
                [button("confirm", PREFIX, "ok")],
                [button("edit", PREFIX, "edit"), button("cancel", PREFIX, "cancel")],
            ]
        ),
    )
    return State.CONFIRM


@guard(Role.FOCAL)
async def confirm(update: Update, context: BotContext) -> int:
    """Confirm: save, after checking again that the window is open and the titles valid."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None or context.member is None:
        return await _lost(update, context)
    member, now = context.member, context.rt.now()
    async with context.rt.db.write() as session:
        campaign = await campaign_for_unit(session, draft.campaign_id, member.unit_id, now)
        if campaign is None or not is_open(campaign, local_today(context)):
            await say_anew(update, render("registration/closed_now"))
            return end_conversation(context, DRAFT_KEY)
        valid = {t.id for t in await active_titles(session, campaign.id, Target.CA_NHAN)}
        valid |= {t.id for t in await active_titles(session, campaign.id, Target.TAP_THE)}
        if (draft.collective and draft.collective.id not in valid) or any(
            p.title.id not in valid for p in draft.people
        ):
            await say_anew(update, render("registration/titles_changed"))
            return end_conversation(context, DRAFT_KEY)
        saved = await save_registration(
            session,
            campaign_id=campaign.id,
            unit_id=member.unit_id,
            collective_title_id=draft.collective.id if draft.collective else None,
            people=[StoredPerson(p.full_name, p.job_title, p.title.id) for p in draft.people],
            by=member.telegram_user_id,
            now=now,
        )
        revision, title = saved.revision, campaign.title
    await say_anew(
        update,
        render(
            "registration/saved",
            campaign_title=title,
            unit=member.unit_name,
            people=len(draft.people),
            at=now.astimezone(context.rt.tz),
            revision=revision,
        ),
    )
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def send_template(update: Update, context: BotContext) -> int | None:
    """Download the Excel form, pre-filled with what is saved or drafted."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None or context.member is None:
        return await _lost(update, context)
    member = context.member
    async with context.rt.db.read() as session:
        campaign = await campaign_for_unit(
            session, draft.campaign_id, member.unit_id, context.rt.now()
        )
        if campaign is None:
            return await _lost(update, context)
        collectives = [t.name for t in await active_titles(session, campaign.id, Target.TAP_THE)]
        individuals = [t.name for t in await active_titles(session, campaign.id, Target.CA_NHAN)]
        saved = await registration_of(session, campaign.id, member.unit_id)
        view = await describe_registration(session, saved) if saved else None
    people = tuple((p.full_name, p.job_title, p.title.name) for p in draft.people)
    workbook = build_registration_template(
        TemplateContext(
            campaign_code=campaign.code,
            campaign_title=campaign.title,
            unit_code=member.unit_code,
            unit_name=member.unit_name,
            collective_titles=tuple(collectives),
            individual_titles=tuple(individuals),
            deadline=campaign.registration_deadline,
            current_collective=draft.collective.name
            if draft.collective
            else (view.collective if view else None),
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


@guard(Role.FOCAL)
async def cancel(update: Update, context: BotContext) -> int:
    """Cancel (button or /huy): nothing is saved."""
    await say_anew(update, render("registration/cancelled"))
    return end_conversation(context, DRAFT_KEY)


@guard(Role.FOCAL)
async def busy(update: Update, context: BotContext) -> int | None:
    """Another command in the middle of a registration: say how to go on or leave."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("registration/busy"))
    return None


@guard(Role.FOCAL)
async def not_expected(update: Update, context: BotContext) -> int | None:
    """Something that is not what this step asks for."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("registration/not_expected"))
    return None


async def timed_out(update: Update, context: BotContext) -> None:
    """The conversation was left idle: forget the draft."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The registration conversation."""
    xlsx = filters.Document.FileExtension("xlsx") | filters.Document.MimeType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    conversation = flow_handler(
        entry_points=[CommandHandler("dangky", start)],
        states={
            State.CAMPAIGN: [route(PREFIX, "c", choose_campaign)],
            State.EXISTING: [route(PREFIX, "redo", redo), route(PREFIX, "keep", keep)],
            State.TITLE: [
                route(PREFIX, "t", choose_title),
                route(PREFIX, "x", send_template),
                MessageHandler(xlsx, people_file),
            ],
            State.PEOPLE: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, people_text),
                MessageHandler(xlsx, people_file),
                route(PREFIX, "none", no_people),
                route(PREFIX, "sum", show_summary),
                route(PREFIX, "x", send_template),
            ],
            State.CONFIRM: [route(PREFIX, "ok", confirm), route(PREFIX, "edit", redo)],
            ConversationHandler.TIMEOUT: [MessageHandler(filters.ALL, timed_out)],
        },
        fallbacks=[
            CommandHandler("huy", cancel),
            route(PREFIX, "cancel", cancel),
            CommandHandler("dangky", start),
            MessageHandler(filters.COMMAND, busy),
            MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, not_expected),
        ],
        name="dangky",
        conversation_timeout=30 * 60,
        allow_reentry=True,
    )
    return [conversation]

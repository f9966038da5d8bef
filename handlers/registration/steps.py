"""The steps of `/dangky`: campaign, collective title, people, summary, confirm."""

from __future__ import annotations

from datetime import date

from telegram import Update

from handlers.common import begin, draft_of, end_conversation, guard, local_today, pressed_number
from handlers.flow import END
from handlers.registration.draft import DRAFT_KEY, FLOW, PREFIX, Act, Draft, State
from handlers.registration.summary import summary
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import button, grid, label, rows, text_button
from messages.long_text import MAX_TEXT
from storage.campaigns import (
    active_titles,
    campaign_for_unit,
    launched_campaigns_of_unit,
    registration_forms,
)
from storage.models import Campaign, Role, Target
from storage.people_lines import (
    BadLine,
    Title,
    TitleMatcher,
    likely_fix,
    parse_people,
)
from storage.registrations import (
    campaign_registration,
    registration_of,
    registration_revision,
)
from storage.windows import has_registration, registration_open


@guard(Role.FOCAL)
async def start(update: Update, context: BotContext) -> int:
    """`/dangky`: choose the campaign (skipped when only one is open)."""
    assert context.member is not None
    end_conversation(context, DRAFT_KEY)
    parked = FLOW.parked(context)
    if parked is not None:
        return await _offer_parked(update, context, parked)
    today = local_today(context)
    async with context.rt.db.read() as session:
        campaigns = [
            c
            for c in await launched_campaigns_of_unit(
                session, context.member.unit_id, context.rt.now()
            )
            if has_registration(c)
        ]
        registered = {
            c.id for c in campaigns if await registration_of(session, c.id, context.member.unit_id)
        }
    visible = [c for c in campaigns if registration_open(c, today) or c.id in registered]
    if not visible:
        await say_anew(update, render("registration/none_open"))
        return END
    if len(visible) == 1:
        return await _show_campaign(update, context, visible[0].id)
    buttons = [text_button(_campaign_label(c, today), PREFIX, Act.CAMPAIGN, c.id) for c in visible]
    await say_anew(update, render("registration/choose_campaign", today=today), rows(buttons))
    return State.CAMPAIGN


async def _offer_parked(update: Update, context: BotContext, draft: Draft) -> int:
    """A draft another command interrupted: offer to go on with it, if its campaign still
    takes registrations; otherwise start as /dangky always does."""
    assert context.member is not None
    async with context.rt.db.read() as session:
        found = await campaign_registration(
            session, draft.campaign_id, draft.unit_id, context.rt.now()
        )
    if found is None or not registration_open(found[0], local_today(context)):
        return await start(update, context)
    begin(context, DRAFT_KEY, draft)
    await say_anew(
        update,
        render(
            "registration/resume",
            campaign_title=found[0].title,
            people=len(draft.people),
            collective=draft.collective.name if draft.collective else None,
        ),
        grid([[button("resume", PREFIX, Act.RESUME), button("fresh", PREFIX, Act.FRESH)]]),
    )
    return State.RESUME


@guard(Role.FOCAL)
@FLOW.with_draft
async def resume(update: Update, context: BotContext, draft: Draft) -> int:
    """The resume button (buttons/resume): back where the draft was, at the people or the
    summary."""
    if draft.people:
        return await summary(update, context)
    return await _ask_people(update, context)


@guard(Role.FOCAL)
@FLOW.with_draft
async def fresh(update: Update, context: BotContext, draft: Draft) -> int:
    """The start-again button (buttons/fresh): the parked draft is dropped; the campaign's
    screen as /dangky shows."""
    return await _show_campaign(update, context, draft.campaign_id)


def _campaign_label(campaign: Campaign, today: date) -> str:
    return label("campaign", title=campaign.title, closed=not registration_open(campaign, today))


@guard(Role.FOCAL)
async def choose_campaign(update: Update, context: BotContext) -> int:
    """A campaign button: re-checked against the unit before anything is shown."""
    campaign_id = pressed_number(update, PREFIX)
    if campaign_id is None:
        return await FLOW.lost(update, context)
    return await _show_campaign(update, context, campaign_id)


async def _show_campaign(update: Update, context: BotContext, campaign_id: int) -> int:
    assert context.member is not None
    member, today = context.member, local_today(context)
    async with context.rt.db.read() as session:
        found = await campaign_registration(session, campaign_id, member.unit_id, context.rt.now())
    if found is None:
        if update.callback_query is not None:
            await update.callback_query.answer(
                render_text("alerts/registration_not_yours"), show_alert=True
            )
        return END
    campaign, current = found
    closed = not registration_open(campaign, today)
    if closed or current is not None:
        screen = render(
            "registration/current",
            campaign=campaign,
            unit=member.unit_name,
            current=current,
            closed=closed,
            tz=context.rt.tz,
        )
        # The current registration is a screen, not a step: it opens no flow (PRODUCT §5);
        # "Đăng ký lại" starts one for this campaign.
        choice = None
        if not closed:
            choice = grid(
                [[button("redo", PREFIX, Act.REDO, campaign.id), button("keep", PREFIX, Act.KEEP)]]
            )
        await say_anew(update, screen, choice)
        return end_conversation(context, DRAFT_KEY)
    await _begin(context, campaign.id)
    return await _ask_title(update, context)


async def _begin(context: BotContext, campaign_id: int) -> None:
    """A new draft of the member's unit for the campaign, from the registration saved now."""
    assert context.member is not None
    unit_id = context.member.unit_id
    async with context.rt.db.read() as session:
        revision = await registration_revision(session, campaign_id, unit_id)
    begin(context, DRAFT_KEY, Draft(unit_id=unit_id, campaign_id=campaign_id, based_on=revision))


async def _ask_title(update: Update, context: BotContext) -> int:
    """The collective title: one button per title of the campaign, or none."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    if draft is None:
        return await FLOW.lost(update, context)
    async with context.rt.db.read() as session:
        titles = await active_titles(session, draft.campaign_id, Target.TAP_THE)
        forms = await registration_forms(session, draft.campaign_id)
    if not titles:
        draft.collective = None
        return await _ask_people(update, context)
    buttons = [text_button(t.name, PREFIX, Act.TITLE, t.id) for t in titles]
    buttons += [
        button("no_collective", PREFIX, Act.TITLE, 0),
        button("template", PREFIX, Act.TEMPLATE),
    ]
    await say_anew(update, render("registration/ask_title", forms=forms), rows(buttons))
    return State.TITLE


@guard(Role.FOCAL)
async def redo(update: Update, context: BotContext) -> int:
    """The register-again button (buttons/redo) under the current registration: a new
    draft for that campaign, once the campaign is checked again against the unit and its
    window."""
    assert context.member is not None
    campaign_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        campaign = (
            await campaign_for_unit(session, campaign_id, context.member.unit_id, context.rt.now())
            if campaign_id is not None
            else None
        )
    if campaign is None or not registration_open(campaign, local_today(context)):
        assert update.callback_query is not None
        await update.callback_query.answer(
            render_text("alerts/registration_not_yours"), show_alert=True
        )
        return END
    await _begin(context, campaign.id)
    return await _ask_title(update, context)


@guard(Role.FOCAL)
@FLOW.with_draft
async def edit(update: Update, context: BotContext, draft: Draft) -> int:
    """The edit button (buttons/edit) at the summary: back to the collective title, keeping the
    people."""
    draft.appending = False
    return await _ask_title(update, context)


@guard(Role.FOCAL)
async def keep(update: Update, context: BotContext) -> None:
    """The keep button (buttons/keep) under the current registration: nothing changes."""
    await say_anew(update, render("registration/kept"))


@guard(Role.FOCAL)
async def choose_title(update: Update, context: BotContext) -> int:
    """A collective-title button: the title must belong to this campaign."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    title_id = pressed_number(update, PREFIX)
    if draft is None or title_id is None:
        return await FLOW.lost(update, context)
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
    return await _ask_people(update, context)


async def title_matcher(context: BotContext, campaign_id: int) -> TitleMatcher:
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
        return await FLOW.lost(update, context)
    matcher = await title_matcher(context, draft.campaign_id)
    buttons = [button("no_people", PREFIX, Act.NO_PEOPLE)]
    if draft.people:
        buttons.append(button("keep_people", PREFIX, Act.SUMMARY))
    buttons.append(button("template", PREFIX, Act.TEMPLATE))
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
@FLOW.with_draft
async def people_text(update: Update, context: BotContext, draft: Draft) -> int:
    """A message of people: keep the good lines, explain the bad ones."""
    assert update.effective_message is not None
    matcher = await title_matcher(context, draft.campaign_id)
    base = draft.people if draft.appending else []
    people, bad = parse_people(update.effective_message.text or "", matcher, already=base)
    draft.people = [*base, *people]
    return await after_people(update, context, draft, len(people), bad, matcher)


# How many unreadable lines a report lists, tried in turn until the report fits one message.
REPORT_LINES = (10, 5, 2, 0)


async def after_people(
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
        return await summary(update, context)
    draft.appending = True
    report = problem_report(added, len(draft.people), bad, matcher.abbreviations(), in_file)
    keyboard = rows([button("summary", PREFIX, Act.SUMMARY)]) if draft.people else None
    await say_anew(update, report, keyboard)
    return State.PEOPLE


def problem_report(
    added: int, total: int, bad: list[BadLine], titles: list[str], in_file: bool
) -> str:
    """The report of unreadable lines: the first ones with their reasons, the rest counted,
    the likely fix said once; as many lines as fit in one message (PRODUCT §5)."""
    for shown in REPORT_LINES:
        text = render(
            "registration/problems",
            added=added,
            total=total,
            bad=bad[:shown],
            more=max(len(bad) - shown, 0),
            titles=titles,
            in_file=in_file,
            fix=likely_fix(bad),
        )
        if len(text) <= MAX_TEXT:
            break
    return text


@guard(Role.FOCAL)
@FLOW.with_draft
async def no_people(update: Update, context: BotContext, draft: Draft) -> int:
    """No individuals: register the collective title only."""
    draft.people, draft.appending = [], False
    return await summary(update, context)

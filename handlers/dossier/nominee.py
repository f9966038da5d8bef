"""Adding a nominee in /nophoso: the award form (within the unit's quota), what the nominee
is for an award open to either, the name; then the new nominee's documents."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update

from handlers.common import draft_of, end_conversation, guard, pressed_number
from handlers.dossier.draft import DRAFT_KEY, FLOW, PREFIX, Act, Draft, State, lost
from handlers.dossier.screens import refuse_press
from handlers.dossier.upload import document_step
from handlers.replies import say_anew, turn_keyboard
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import unpack
from messages.keyboards import grid, paged, rows, text_button
from storage.dossier_slots import EITHER, propose_nominee
from storage.models import Role, Target
from storage.people_lines import tidy
from storage.quotas import AwardChoice, Outcome, Proposal, award_choices

MAX_NAME = 200
AWARDS_LISTED = 8  # award lines in the text (each may be long); every award has a button


def after_award(choice: AwardChoice) -> State:
    """The step after an award is chosen: the award again when the unit's quota for it is
    full, what the nominee is for an award open to either, else the nominee's name."""
    if choice.unit_full:
        return State.AWARD
    return State.TARGET if choice.award.target is Target.ANY else State.NAME


def after_proposal(proposal: Proposal) -> State:
    """The step after a nominee's name: the name again when the unit proposed it already, the
    award again when its quota filled meanwhile, else the new nominee's documents."""
    if proposal.outcome is Outcome.DUPLICATE:
        return State.NAME
    if proposal.outcome is Outcome.UNIT_FULL or proposal.nominee is None:
        return State.AWARD
    return State.DOCUMENT


@guard(Role.FOCAL)
@FLOW.with_draft
async def ask_award(update: Update, context: BotContext, draft: Draft) -> int:
    """ "Add a nominee": the campaign's award forms with the whole quota and the unit's own."""
    return await _award_step(update, context, draft)


async def _award_step(
    update: Update, context: BotContext, draft: Draft, notice: str | None = None
) -> int:
    """The award choice, after `notice` (why the previous choice was refused) if any."""
    async with context.rt.db.read() as session:
        choices = await award_choices(session, draft.campaign_id, draft.unit_id)
    if not choices:
        await say_anew(update, render("dossier/no_awards"))
        return end_conversation(context, DRAFT_KEY)
    draft.award_id, draft.target = None, None
    text = render("dossier/choose_award", choices=choices, shown=AWARDS_LISTED)
    if notice is None:
        await say_anew(update, text, _award_keyboard(choices, 0))
    else:
        await say_anew(update, notice)
        assert update.effective_chat is not None
        await update.effective_chat.send_message(text, reply_markup=_award_keyboard(choices, 0))
    return State.AWARD


def _award_keyboard(choices: Sequence[AwardChoice], page: int) -> InlineKeyboardMarkup:
    """One page of the award forms: any number of them fits."""
    buttons = [
        text_button(render_text("buttons/award", award=c.award), PREFIX, Act.AWARD, c.award.id)
        for c in choices
    ]
    return grid(paged(buttons, page, PREFIX, Act.AWARDS_PAGE)[0])


@guard(Role.FOCAL)
@FLOW.with_draft
async def turn_awards_page(update: Update, context: BotContext, draft: Draft) -> int:
    """A page button under the award forms: the same message, another page of buttons."""
    assert update.callback_query is not None
    page = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        choices = await award_choices(session, draft.campaign_id, draft.unit_id)
    if page is None or not choices:
        await refuse_press(update)
        return State.AWARD
    await turn_keyboard(update, _award_keyboard(choices, page))
    return State.AWARD


async def _award_choice(context: BotContext, draft: Draft, award_id: int) -> AwardChoice | None:
    """The award of the draft's campaign with this id, with the unit's counts, or None."""
    async with context.rt.db.read() as session:
        choices = await award_choices(session, draft.campaign_id, draft.unit_id)
    return next((c for c in choices if c.award.id == award_id), None)


@guard(Role.FOCAL)
@FLOW.with_draft
async def choose_award(update: Update, context: BotContext, draft: Draft) -> int:
    """An award-form button: it must belong to the campaign, and the unit's quota not be full."""
    award_id = pressed_number(update, PREFIX)
    if award_id is None:  # data no button of ours carries
        await refuse_press(update)
        return State.AWARD
    choice = await _award_choice(context, draft, award_id)
    if choice is None:  # unknown, or an award of another campaign: the same answer
        await refuse_press(update)
        return State.AWARD
    step = after_award(choice)
    if step is State.AWARD:
        notice = render("dossier/unit_full", choice=choice, name=None)
        return await _award_step(update, context, draft, notice)
    draft.award_id = award_id
    if step is State.TARGET:
        await say_anew(update, render("dossier/ask_target", award=choice.award), _kinds())
        return State.TARGET
    draft.target = choice.award.target.value
    await say_anew(update, render("dossier/ask_name", award=choice.award, target=draft.target))
    return State.NAME


def _kinds() -> InlineKeyboardMarkup:
    """Collective or individual: the buttons of an award open to either."""
    buttons = [
        text_button(render_text("buttons/nominee_kind", target=t), PREFIX, Act.TARGET, t.value)
        for t in EITHER
    ]
    return rows(buttons, 2)


@guard(Role.FOCAL)
async def choose_target(update: Update, context: BotContext) -> int:
    """Collective or individual, for an award open to either."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    parsed = unpack(update.callback_query.data if update.callback_query else None, PREFIX)
    if draft is None or draft.award_id is None or parsed is None:
        return await lost(update, context)
    choice = await _award_choice(context, draft, draft.award_id)
    value = parsed[1][0] if len(parsed[1]) == 1 else ""
    if choice is None or choice.award.target is not Target.ANY or value not in EITHER:
        await refuse_press(update)
        return State.TARGET
    draft.target = value
    await say_anew(update, render("dossier/ask_name", award=choice.award, target=value))
    return State.NAME


@guard(Role.FOCAL)
@FLOW.with_draft
async def press_a_button(update: Update, context: BotContext, draft: Draft) -> int | None:
    """Text where a button is expected: say so, and show the step's buttons again."""
    notice = render("dossier/press_button")
    if draft.award_id is not None:  # choosing tập thể or cá nhân
        choice = await _award_choice(context, draft, draft.award_id)
        if choice is not None:
            assert update.effective_message is not None
            await update.effective_message.reply_text(notice)
            await update.effective_message.reply_text(
                render("dossier/ask_target", award=choice.award), reply_markup=_kinds()
            )
            return State.TARGET
    return await _award_step(update, context, draft, notice)


@guard(Role.FOCAL)
async def nominee_name(update: Update, context: BotContext) -> int:
    """The nominee's name: a person's full name, a collective's or a household's name."""
    draft = draft_of(context, DRAFT_KEY, Draft)
    assert update.effective_message is not None and context.member is not None
    if draft is None or draft.award_id is None:
        return await lost(update, context)
    name = tidy(update.effective_message.text or "")
    if not 2 <= len(name) <= MAX_NAME or name.startswith("/"):
        await update.effective_message.reply_text(render("dossier/bad_name", limit=MAX_NAME))
        return State.NAME
    proposal = await _propose(context, draft, name)
    if proposal is None:  # the award dropped by a reloaded file, or its kind not chosen
        return await lost(update, context)
    step = after_proposal(proposal)
    if step is State.NAME:
        await update.effective_message.reply_text(render("dossier/duplicate_nominee", name=name))
        return State.NAME
    if step is State.AWARD or proposal.nominee is None:
        notice = render("dossier/unit_full", choice=proposal.choice, name=name)
        return await _award_step(update, context, draft, notice)
    draft.nominee_id = proposal.nominee.id
    await update.effective_message.reply_text(
        render("dossier/nominee_added", name=name, choice=proposal.choice)
    )
    return await document_step(update, context)


async def _propose(context: BotContext, draft: Draft, name: str) -> Proposal | None:
    """Propose the nominee of the draft's award (within the unit's quota, in one transaction)."""
    assert context.member is not None and draft.award_id is not None
    async with context.rt.db.write() as session:
        return await propose_nominee(
            session,
            campaign_id=draft.campaign_id,
            unit_id=draft.unit_id,
            award_id=draft.award_id,
            # getattr: a draft stored before `target` existed has no such field.
            chosen=getattr(draft, "target", None),
            name=name,
            by=context.member.telegram_user_id,
            now=context.rt.now(),
        )

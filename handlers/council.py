"""`/hoidong`: the office's council session (PRODUCT §11) — the council and the approved
proposals against the quotas, opening the secret ballot (each member is invited in their own
chat, storage.ballots), reminders to whoever has not voted, closing once the quorum is met, the
tally per award, the DOCX drafts, and the issued decision that publishes the results."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, Update
from telegram.ext import CommandHandler

from handlers.common import guard, pressed_number, route, stale
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Council as Act
from messages.callbacks import Prefix
from messages.keyboards import button, label, rows, text_button
from messages.long_text import pack_blocks
from messages.organizations import OrgWords, org_words
from storage.council import (
    Opened,
    close_session,
    latest_session,
    open_session,
    remind_waiting,
    seat_members,
)
from storage.council_overview import Overview, campaign_in_org, council_campaigns, overview
from storage.council_rules import quorum_of
from storage.members import Membership
from storage.models import Campaign, CouncilState, Role
from storage.outbox import enqueue

PREFIX = Prefix.COUNCIL
KIND_INVITE = "ballot"  # the outbox kinds of the members' invitations and reminders
KIND_REMINDER = "ballot_reminder"


def member_of(context: BotContext) -> Membership:
    """The office member pressing (the guard has loaded them)."""
    assert context.member is not None
    return context.member


def words_of(member: Membership) -> OrgWords:
    """The member's body's words, for the papers and the decision."""
    return org_words(member.org_name, member.org_office, member.org_head, member.org_short)


# ---- the screens ---------------------------------------------------------------------------


def _blocks(seen: Overview, tz: ZoneInfo) -> list[str]:
    """The screen's head, then, once the ballot is counted, a block per award."""
    head = render("council/overview", o=seen, view=seen.session, state=_state(seen), tz=tz)
    view = seen.session
    counted = view is not None and view.state is not CouncilState.OPEN
    awards = [render("council/award", a=a) for a in view.awards] if view and counted else []
    return [head, *awards]


def _state(seen: Overview) -> str:
    return "none" if seen.session is None else str(seen.session.state)


def _keyboard(seen: Overview) -> list[InlineKeyboardButton]:
    cid = seen.campaign.id
    view = seen.session
    if view is None or view.state is CouncilState.DECIDED:
        return [button("council_open", PREFIX, Act.OPEN, cid)] if seen.members else []
    if view.state is CouncilState.OPEN:
        return [
            button("council_remind", PREFIX, Act.REMIND, cid),
            button("council_close", PREFIX, Act.CLOSE, cid),
            button("council_refresh", PREFIX, Act.SHOW, cid),
        ]
    return [
        button("council_papers", PREFIX, Act.PAPERS, cid),
        button("council_decide", PREFIX, Act.DECIDE, cid),
    ]


async def _overview(context: BotContext, campaign_id: int) -> Overview | None:
    async with context.rt.db.read() as session:
        campaign = await campaign_in_org(session, campaign_id, member_of(context).organization_id)
        return await overview(session, campaign) if campaign is not None else None


async def _show(
    update: Update, context: BotContext, campaign_id: int, notice: str | None = None
) -> bool:
    """The campaign's council screen as new messages (the pressed keyboard taken away), after
    a notice if one is given."""
    seen = await _overview(context, campaign_id)
    if seen is None:
        return False
    texts = pack_blocks([*([notice] if notice else []), *_blocks(seen, context.rt.tz)])
    buttons = _keyboard(seen)
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        markup = rows(buttons) if last and buttons else None
        if i == 0:
            await say_anew(update, text, markup)
        else:
            assert update.effective_chat is not None
            await update.effective_chat.send_message(text, reply_markup=markup)
    return True


@guard(Role.OFFICE)
async def show_council(update: Update, context: BotContext) -> None:
    """`/hoidong`: the campaigns a council can sit on; the only one opens directly."""
    assert update.effective_message is not None
    async with context.rt.db.read() as session:
        found = await council_campaigns(session, member_of(context).organization_id)
    if not found:
        await update.effective_message.reply_text(render("council/none"))
        return
    if len(found) == 1:
        await _show(update, context, found[0][0].id)
        return
    buttons = [
        text_button(label("council_campaign", c=c, approved=n), PREFIX, Act.SHOW, c.id)
        for c, n in found
    ]
    await update.effective_message.reply_text(render("council/choose"), reply_markup=rows(buttons))


async def campaign_pressed(update: Update, context: BotContext) -> Campaign | None:
    """The campaign a pressed button names, if it is the presser's body's (else the stale
    answer, for an unknown id and another body's alike)."""
    campaign_id = pressed_number(update, PREFIX)
    async with context.rt.db.read() as session:
        campaign = (
            await campaign_in_org(session, campaign_id, member_of(context).organization_id)
            if campaign_id
            else None
        )
    if campaign is None:
        await stale(update)
    return campaign


@guard(Role.OFFICE)
async def show_pressed(update: Update, context: BotContext) -> None:
    """A campaign chosen, or the screen refreshed."""
    campaign = await campaign_pressed(update, context)
    if campaign is not None:
        await _show(update, context, campaign.id)


# ---- the ballot ----------------------------------------------------------------------------


@guard(Role.OFFICE)
async def open_ballot(update: Update, context: BotContext) -> None:
    """Open the session: the roll and the proposals fixed, each member invited to vote."""
    campaign = await campaign_pressed(update, context)
    if campaign is None:
        return
    member, now = member_of(context), context.rt.now()
    async with context.rt.db.write() as session:
        outcome, session_id, proposals = await open_session(
            session, campaign, member.telegram_user_id or 0, member.full_name, now
        )
        if outcome is Opened.OPENED:
            assert session_id is not None
            seated = await seat_members(session, session_id)
            rows_ = context.rt.fan_out()(
                f"ballot:{session_id}",
                KIND_INVITE,
                seated,
                lambda: render("ballot/invite", campaign_title=campaign.title, proposals=proposals),
                now,
            )
            await enqueue(session, rows_, now)
    if outcome is Opened.OPENED:
        context.rt.poke()
        await _show(update, context, campaign.id)
    elif outcome is Opened.ALREADY:
        await _show(update, context, campaign.id, render("council/already"))
    else:
        await say_anew(update, render(f"council/{outcome}"))


@guard(Role.OFFICE)
async def remind(update: Update, context: BotContext) -> None:
    """Remind, in their own chats, the members who have not voted on every proposal."""
    campaign = await campaign_pressed(update, context)
    if campaign is None:
        return
    now = context.rt.now()
    async with context.rt.db.write() as session:
        held = await latest_session(session, campaign.id)
        if held is None or held.state is not CouncilState.OPEN:
            waiting_names: list[str] | None = None
        else:
            waiting, round_ = await remind_waiting(session, held.id)
            rows_ = context.rt.fan_out()(
                f"ballot:{held.id}:remind:{round_}",
                KIND_REMINDER,
                waiting,
                lambda: render("ballot/reminder", campaign_title=campaign.title),
                now,
            )
            await enqueue(session, rows_, now)
            waiting_names = [m.full_name for m in waiting]
    if waiting_names is None:
        await stale(update)
        return
    context.rt.poke()
    await say_anew(update, render("council/reminded", names=waiting_names))


@guard(Role.OFFICE)
async def close(update: Update, context: BotContext) -> None:
    """Close and count, once the quorum is met; else say how many more are needed."""
    campaign = await campaign_pressed(update, context)
    if campaign is None:
        return
    member = member_of(context)
    async with context.rt.db.write() as session:
        held = await latest_session(session, campaign.id)
        is_open = held is not None and held.state is CouncilState.OPEN
        missed = (
            await close_session(
                session, held, member.telegram_user_id, member.full_name, context.rt.now()
            )
            if held is not None and is_open
            else None
        )
        quorum = quorum_of(held.quorum if held is not None else None)
    if not is_open:
        await stale(update)
        return
    notice = (
        render("council/quorum_missed", turnout=missed, quorum=quorum)
        if missed is not None
        else None
    )
    await _show(update, context, campaign.id, notice)


def handlers() -> list[object]:
    """The council command, its buttons and the decision flow."""
    return [
        CommandHandler("hoidong", show_council),
        route(PREFIX, Act.SHOW, show_pressed),
        route(PREFIX, Act.OPEN, open_ballot),
        route(PREFIX, Act.REMIND, remind),
        route(PREFIX, Act.CLOSE, close),
    ]

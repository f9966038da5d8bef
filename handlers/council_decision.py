"""The council's papers and decision (PRODUCT §11): from a counted session, the DOCX drafts of
the minutes of the meeting and its count, the submission to the head and the decision with its list
(messages.exports.council_papers, templates the office can replace); then the issued
decision's number and date, which publish the list as the campaign's results."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import MessageHandler, filters

from handlers.common import begin, draft_of, guard, route, stale
from handlers.council import PREFIX, campaign_pressed, member_of, words_of
from handlers.flow import END, Flow
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render, words
from messages.callbacks import Council as Act
from messages.exports.council_papers import (
    AwardTally,
    CouncilSession,
    CouncilTally,
    NomineeTally,
    council_papers,
)
from messages.organizations import OrgWords
from storage.council import SessionView, latest_session, record_decision, session_view
from storage.council_overview import campaign_in_org
from storage.models import Campaign, CouncilState, Role

DECISION_FLOW = "hoidong_decision"
MAX_DECISION = 60  # characters of a decision's number at most (its number and sign)
_FILLERS = frozenset(words("council_words")["decision_fillers"])
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


class State(enum.IntEnum):
    """Waiting for the issued decision's number and date."""

    DECISION = 1


@dataclass(slots=True)
class DecisionDraft:
    """The campaign whose decision the office is recording."""

    unit_id: int
    campaign_id: int


def tally_of(view: SessionView, campaign: Campaign, words: OrgWords, tz: ZoneInfo) -> CouncilTally:
    """The papers' tally from a counted session."""
    start = view.opened_at.astimezone(tz).replace(tzinfo=None)
    end = view.closed_at.astimezone(tz).replace(tzinfo=None) if view.closed_at else None
    present = view.turnout.present
    names = [a.name for a in view.awards]  # two awards of one name are told apart by target
    return CouncilTally(
        org=words,
        campaign_code=campaign.code,
        campaign_title=campaign.title,
        session=CouncilSession(
            start=start,
            end=end,
            place=render("council/paper_place"),
            chair="",
            secretary="",
            present=present,
            total=view.turnout.total,
            quorum=render("council/rule", share=view.quorum, of="members"),
            quorum_met=view.quorum_met,
            attendees=[s.name for s in view.turnout.seats if s.voted > 0],
        ),
        awards=[
            AwardTally(
                name=render("council/award_name", a=a, twice=names.count(a.name) > 1),
                threshold=render("council/rule", share=a.rule.share, of=a.rule.of),
                nominees=[
                    NomineeTally(
                        name=p.name,
                        unit=p.unit_name,
                        votes_for=p.yes,
                        votes_against=p.no,
                        votes_total=present,
                        passed=p.within_quota,
                    )
                    for p in a.proposals
                ],
            )
            for a in view.awards
        ],
    )


async def _counted_session(context: BotContext, campaign: Campaign) -> SessionView | None:
    async with context.rt.db.read() as session:
        held = await latest_session(session, campaign.id)
        if held is None or held.state is CouncilState.OPEN:
            return None
        return await session_view(session, held)


@guard(Role.OFFICE)
async def send_papers(update: Update, context: BotContext) -> None:
    """The DOCX drafts from the tally: the minutes, the submission, the decision with its list."""
    campaign = await campaign_pressed(update, context)
    if campaign is None:
        return
    view = await _counted_session(context, campaign)
    if view is None:
        await stale(update)
        return
    member = member_of(context)
    papers = council_papers(tally_of(view, campaign, words_of(member), context.rt.tz))
    assert update.callback_query is not None and update.effective_chat is not None
    await update.callback_query.answer()
    for paper in papers:
        await update.effective_chat.send_document(
            InputFile(paper.content, filename=paper.file_name),
            caption=render("council/paper_caption", kind=str(paper.kind)),
        )


@guard(Role.OFFICE)
async def ask_decision(update: Update, context: BotContext) -> int | None:
    """Record the issued decision: ask its number and date."""
    campaign = await campaign_pressed(update, context)
    if campaign is None:
        return END
    view = await _counted_session(context, campaign)
    if view is None or view.state is not CouncilState.CLOSED:
        await stale(update)
        return END
    begin(context, DECISION_FLOW, DecisionDraft(member_of(context).unit_id, campaign.id))
    await say_anew(
        update,
        render("council/ask_decision", today=context.rt.now().astimezone(context.rt.tz).date()),
    )
    return State.DECISION


def parse_decision(text: str) -> tuple[str, date] | None:
    """The number and date of a decision as typed: the number, then the date (d/m/yyyy, with "/",
    "." or "-"), with the words of council_words.yaml around them left out."""
    words = " ".join(text.split()).split(" ")
    if len(words) < 2:
        return None
    m = _DATE.match(words[-1])
    number = " ".join(w for w in words[:-1] if w.casefold() not in _FILLERS)
    if (
        m is None
        or not number
        or len(number) > MAX_DECISION
        or not any(c.isdigit() for c in number)
    ):
        return None
    try:
        issued = date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None
    return number, issued


@guard(Role.OFFICE)
async def decision_given(update: Update, context: BotContext) -> int | None:
    """The decision's number and date: the list becomes the published results."""
    message = update.effective_message
    assert message is not None
    parsed = parse_decision(message.text or "")
    if parsed is None:
        await message.reply_text(render("council/expects"))
        return State.DECISION
    draft = draft_of(context, DECISION_FLOW, DecisionDraft)
    member, now = member_of(context), context.rt.now()
    number, issued = parsed
    decision = render("council/decision", number=number, issued=issued)
    async with context.rt.db.write() as session:
        campaign = (
            await campaign_in_org(session, draft.campaign_id, member.organization_id)
            if draft is not None
            else None
        )
        held = await latest_session(session, campaign.id) if campaign is not None else None
        result_id = None
        if held is not None and held.state is CouncilState.CLOSED:
            view = await session_view(session, held)
            result_id = await record_decision(
                session,
                held,
                view,
                decision,
                words_of(member).head,
                now,
                member.telegram_user_id,
                member.full_name,
            )
    if result_id is None or campaign is None:
        await message.reply_text(render("council/lost"))
        return END
    context.rt.poke()
    await message.reply_text(render("council/decided", decision=decision, campaign=campaign))
    return END


DECISION = Flow(
    name=DECISION_FLOW,
    templates="council",
    states=State,
    draft_type=DecisionDraft,
    entries=[route(PREFIX, Act.DECIDE, ask_decision)],
    steps={State.DECISION: [MessageHandler(filters.TEXT & ~filters.COMMAND, decision_given)]},
)


def handlers() -> list[object]:
    """The papers' button and the decision flow."""
    return [DECISION, route(PREFIX, Act.PAPERS, send_papers)]

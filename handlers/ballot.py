"""`/bophieu`: a council member's secret ballot, in their private chat (PRODUCT §11).

A page shows a few proposals with an agree and a disagree button under each not yet voted on; a
choice asks to confirm (the choice travels in the button, nothing is stored), and only the
confirmation counts it (storage.ballots.cast). Nothing of the choice is logged, kept or sent
anywhere: the message goes back to the ballot, which shows only what has been voted on."""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard, route, stale
from handlers.replies import answer
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import Ballot as Act
from messages.callbacks import Prefix, int_arg, unpack
from messages.keyboards import button, grid, label, page_row, text_button
from storage.ballots import Ballot, BallotLine, Cast, ballot, cast, open_ballots

PREFIX = Prefix.BALLOT
PER_PAGE = 5  # proposals on one page of the ballot: two buttons each, short lines


def _lines_page(
    lines: tuple[BallotLine, ...], page: int
) -> tuple[tuple[BallotLine, ...], int, int]:
    pages = max(1, -(-len(lines) // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    return lines[page * PER_PAGE : (page + 1) * PER_PAGE], page, pages


def screen(held: Ballot, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the ballot: its proposals, and a choice row under each not voted on."""
    shown, page, pages = _lines_page(held.lines, page)
    text = render(
        "ballot/screen",
        campaign_title=held.campaign_title,
        ballot_open=held.open,
        left=held.left,
        total=len(held.lines),
        lines=shown,
    )
    layout: list[list[InlineKeyboardButton]] = []
    if held.open:
        for line in shown:
            if not line.voted:
                layout.append(
                    [
                        text_button(
                            label("vote", number=line.number, agree=agree),
                            PREFIX,
                            Act.CHOOSE,
                            held.session_id,
                            line.proposal_id,
                            int(agree),
                        )
                        for agree in (True, False)
                    ]
                )
    if pages > 1:
        layout.append(page_row(page, pages, PREFIX, Act.PAGE, held.session_id))
    return text, grid(layout) if layout else None


def _page_of(held: Ballot, proposal_id: int) -> int:
    index = next((i for i, line in enumerate(held.lines) if line.proposal_id == proposal_id), 0)
    return index // PER_PAGE


async def _seat_or_refuse(update: Update, context: BotContext) -> int | None:
    """The presser's member id if they hold a council seat; else they are told it is not
    theirs (the same answer as any other command of another role)."""
    member = context.member
    assert member is not None
    if member.council_seat:
        return member.member_id
    await answer(
        update, render("common/forbidden", roles=["council"]), render_text("alerts/forbidden")
    )
    return None


@guard()
async def show_ballot(update: Update, context: BotContext) -> None:
    """`/bophieu`: the newest open ballot of the member, from its first page."""
    assert update.effective_message is not None
    member_id = await _seat_or_refuse(update, context)
    if member_id is None:
        return
    async with context.rt.db.read() as session:
        sessions = await open_ballots(session, member_id)
        held = await ballot(session, sessions[0], member_id) if sessions else None
    if held is None:
        await update.effective_message.reply_text(render("ballot/none"))
        return
    first_open = next((i for i, line in enumerate(held.lines) if not line.voted), 0)
    text, markup = screen(held, first_open // PER_PAGE)
    await update.effective_message.reply_text(text, reply_markup=markup)
    if len(sessions) > 1:
        await update.effective_message.reply_text(render("ballot/others", count=len(sessions) - 1))


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    assert update.callback_query is not None
    with contextlib.suppress(BadRequest):  # the same screen pressed again: nothing to change
        await update.callback_query.edit_message_text(text, reply_markup=markup)


def _pressed(update: Update) -> list[int] | None:
    """The numbers of the pressed ballot button's data (after its action), or None."""
    parsed = unpack(update.callback_query.data if update.callback_query else None, PREFIX)
    if parsed is None:
        return None
    numbers = [int_arg(parsed[1], i) for i in range(len(parsed[1]))]
    return None if any(n is None for n in numbers) else [n for n in numbers if n is not None]


@guard()
async def turn_page(update: Update, context: BotContext) -> None:
    """A page button of the ballot."""
    assert update.callback_query is not None
    member_id = await _seat_or_refuse(update, context)
    numbers = _pressed(update)
    if member_id is None:
        return
    if numbers is None or len(numbers) != 2:
        await stale(update)
        return
    async with context.rt.db.read() as session:
        held = await ballot(session, numbers[0], member_id)
    if held is None:
        await stale(update)
        return
    await update.callback_query.answer()
    await _edit(update, *screen(held, numbers[1]))


def _choice(numbers: list[int] | None) -> tuple[int, int, bool] | None:
    if numbers is None or len(numbers) != 3 or numbers[2] not in (0, 1):
        return None
    return numbers[0], numbers[1], numbers[2] == 1


@guard()
async def choose(update: Update, context: BotContext) -> None:
    """A choice: asked to confirm; nothing is stored yet."""
    assert update.callback_query is not None
    member_id = await _seat_or_refuse(update, context)
    if member_id is None:
        return
    pressed = _choice(_pressed(update))
    async with context.rt.db.read() as session:
        held = await ballot(session, pressed[0], member_id) if pressed else None
    line = (
        next((x for x in held.lines if x.proposal_id == pressed[1]), None)
        if held is not None and pressed is not None
        else None
    )
    if held is None or pressed is None or line is None:
        await stale(update)
        return
    if not held.open or line.voted:
        alert = "ballot_closed" if not held.open else "ballot_already"
        await update.callback_query.answer(render_text(f"alerts/{alert}"), show_alert=True)
        await _edit(update, *screen(held, _page_of(held, line.proposal_id)))
        return
    session_id, proposal_id, agree = pressed
    markup = grid(
        [
            [
                button("vote_confirm", PREFIX, Act.CONFIRM, session_id, proposal_id, int(agree)),
                button("vote_back", PREFIX, Act.PAGE, session_id, _page_of(held, proposal_id)),
            ]
        ]
    )
    await update.callback_query.answer()
    await _edit(update, render("ballot/confirm", line=line, agree=agree), markup)


@guard()
async def confirm(update: Update, context: BotContext) -> None:
    """The confirmation: the vote is counted once, and the ballot shown again without it."""
    assert update.callback_query is not None
    member_id = await _seat_or_refuse(update, context)
    if member_id is None:
        return
    pressed = _choice(_pressed(update))
    if pressed is None:
        await stale(update)
        return
    session_id, proposal_id, agree = pressed
    async with context.rt.db.write() as session:
        outcome = await cast(session, session_id, proposal_id, member_id, agree)
    if outcome is Cast.UNKNOWN:
        await stale(update)
        return
    async with context.rt.db.read() as session:
        held = await ballot(session, session_id, member_id)
    alerts = {Cast.COUNTED: "ballot_counted", Cast.ALREADY: "ballot_already"}
    await update.callback_query.answer(
        render_text(f"alerts/{alerts.get(outcome, 'ballot_closed')}"),
        show_alert=outcome is not Cast.COUNTED,
    )
    if held is not None:
        await _edit(update, *screen(held, _page_of(held, proposal_id)))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The ballot command and its buttons."""
    return [
        CommandHandler("bophieu", show_ballot),
        route(PREFIX, Act.PAGE, turn_page),
        route(PREFIX, Act.CHOOSE, choose),
        route(PREFIX, Act.CONFIRM, confirm),
    ]

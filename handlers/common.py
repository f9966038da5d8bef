"""The role guard, the catch-all answers and the error handler shared by every conversation."""

from __future__ import annotations

import contextlib
import functools
import logging
import traceback
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
)

from handlers.flow import END, flow_named
from handlers.replies import answer
from handlers.runtime import BotContext
from messages import render, render_text
from messages.callbacks import int_arg, pattern, unpack
from messages.organizations import org_words, speak_for
from storage.db import loggable, one_line
from storage.invites import is_code_shaped, normalize_code
from storage.members import Membership, active_membership
from storage.models import Role
from storage.updates import claim_update

log = logging.getLogger(__name__)

R = TypeVar("R")
Callback = Callable[[Update, BotContext], Awaitable[R]]
EXAMPLE_CODE = "K7M2QX9PTA"


async def load_member(update: Update, context: BotContext) -> Membership | None:
    """The sender's active membership, read once per update and kept on the context."""
    if not context.member_loaded:
        user = update.effective_user
        if user is not None:
            async with context.rt.db.read() as session:
                context.member = await active_membership(session, user.id)
        context.member_loaded = True
    return context.member


def guard(*roles: Role) -> Callable[[Callback[R]], Callback[R | int | None]]:
    """Run the callback only for an active member holding one of `roles` (any role if none)."""

    def decorate(callback: Callback[R]) -> Callback[R | int | None]:
        @functools.wraps(callback)
        async def guarded(update: Update, context: BotContext) -> R | int | None:
            member = await load_member(update, context)
            if member is None:
                await answer(
                    update,
                    render("common/not_bound", example=EXAMPLE_CODE),
                    render_text("alerts/not_bound"),
                )
                return END
            if roles and member.role not in roles:
                await answer(
                    update,
                    render("common/forbidden", roles=[str(r) for r in roles]),
                    render_text("alerts/forbidden"),
                )
                return END
            return await callback(update, context)

        guarded.roles = roles  # type: ignore[attr-defined]  # read by handlers.flow.Flows
        return guarded

    return decorate


async def drop_redelivered(update: Update, context: BotContext) -> None:
    """Runs before anything else in webhook mode: an update id seen before is dropped."""
    if not context.rt.dedupe:
        return
    async with context.rt.db.write() as session:
        first = await claim_update(session, update.update_id, context.rt.now())
    if not first:
        log.info("update %s delivered again: dropped", update.update_id)
        raise ApplicationHandlerStop


async def gate_unbound(update: Update, context: BotContext) -> None:
    """Runs first for every update: someone not bound learns only how to get an invite."""
    if update.effective_user is None or update.effective_chat is None:
        raise ApplicationHandlerStop
    if update.effective_chat.type != "private":
        # The bot works in private chats only; groups get no answer and no data.
        raise ApplicationHandlerStop
    member = await load_member(update, context)
    # Every message of this update speaks for the sender's body (or the only one there is).
    speak_for(
        org_words(member.org_name, member.org_office, member.org_head, member.org_short)
        if member is not None
        else context.rt.org_words
    )
    if member is not None:
        return
    message = update.effective_message
    text = (message.text or "") if message is not None and update.callback_query is None else ""
    command = text.split(maxsplit=1)[0].split("@", 1)[0].casefold() if text else ""
    if command == "/start" or looks_like_code(text):
        return  # onboarding handles it
    if command in ("/trogiup", "/help"):
        await answer(
            update,
            render("onboarding/guest", organization=context.rt.organization, example=EXAMPLE_CODE),
        )
    else:
        await answer(
            update,
            render("common/not_bound", example=EXAMPLE_CODE),
            render_text("alerts/not_bound"),
        )
    raise ApplicationHandlerStop


def looks_like_code(text: str) -> bool:
    """Whether a plain message is probably an invite code typed without /start."""
    return not text.startswith("/") and is_code_shaped(normalize_code(text))


@guard()
async def unknown_command(update: Update, context: BotContext) -> None:
    """A command nobody handles."""
    assert update.effective_message is not None
    word = (update.effective_message.text or "").split(maxsplit=1)[0][:40]
    await update.effective_message.reply_text(render("common/unknown_command", command=word))


@guard()
async def not_understood(update: Update, context: BotContext) -> None:
    """A message outside any flow."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("common/not_understood"))


async def stale(update: Update) -> None:
    """The pop-up of an old button, or of data that names nothing the presser may touch (an
    unknown id and a forbidden one get this same answer)."""
    assert update.callback_query is not None
    await update.callback_query.answer(render_text("alerts/stale_button"), show_alert=True)


@guard()
async def stale_button(update: Update, context: BotContext) -> None:
    """A button from an old message, or data nobody recognises."""
    await stale(update)


@guard()
async def cancel_idle(update: Update, context: BotContext) -> None:
    """/huy when nothing is in progress."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(render("common/nothing_to_cancel"))


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with the update id and tell the user, briefly."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    # Where it failed, and what (a database error's words, else only the type): never the
    # message of any error, which may quote what someone typed (PRODUCT §8).
    where = "".join(traceback.format_tb(error.__traceback__)) if error is not None else ""
    if error is None:
        what = ""
    elif isinstance(error, TelegramError):  # the Bot API's own words ("Bad Gateway")
        what = f"{type(error).__name__}: {one_line(error)}"
    else:
        what = loggable(error)
    log.error("update %s failed: %s\n%s", update_id, what, where.rstrip())
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            if update.callback_query is not None:
                # The handler may have answered the button already ("query is too old"): that
                # must not keep the message below from going out.
                with contextlib.suppress(BadRequest):
                    await update.callback_query.answer()
            await update.effective_chat.send_message(render("common/error", update_id=update_id))
        except Exception:  # the reply itself may be what fails (network down)
            log.warning("could not tell the user about the failure of update %s", update_id)


# ---- shared by the conversations ------------------------------------------------------------

D = TypeVar("D")


def local_today(context: BotContext) -> date:
    """Today in the bot's zone (deadlines are local dates)."""
    return context.rt.now().astimezone(context.rt.tz).date()


def begin(context: BotContext, name: str, draft: object) -> None:
    """Start the flow of this name in the chat with a new draft (ending any other)."""
    flow_named(name).begin(context, draft)


def draft_of(context: BotContext, name: str, kind: type[D]) -> D | None:
    """The draft of the flow of this name, only if that flow is in progress, the draft is of
    this kind and of the sender's current unit."""
    draft = flow_named(name).draft(context, kind)
    return draft if isinstance(draft, kind) else None


def end_conversation(context: BotContext, name: str) -> int:
    """End the flow of this name (its draft is forgotten)."""
    return flow_named(name).end(context)


def pressed_number(update: Update, prefix: str, index: int = 0) -> int | None:
    """The index-th number of the pressed button's data under this prefix, or None."""
    parsed = unpack(update.callback_query.data if update.callback_query else None, prefix)
    return int_arg(parsed[1], index) if parsed else None


def route(
    prefix: str, action: str, callback: Callable[..., Awaitable[object]]
) -> CallbackQueryHandler:  # type: ignore[type-arg]
    """A button handler for `prefix:action:…` data."""
    return CallbackQueryHandler(callback, pattern=pattern(prefix, action))

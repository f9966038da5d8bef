"""Onboarding: `/start CODE`, `/trogiup` and `/help`."""

from __future__ import annotations

import math
from datetime import timedelta

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from handlers.common import (
    EXAMPLE_CODE,
    guard,
    load_member,
    log,
    looks_like_code,
    not_understood,
)
from handlers.runtime import BotContext
from messages import render
from messages.commands import commands_for
from storage.invites import (
    CODE_LENGTH,
    Redeemed,
    Redemption,
    is_code_shaped,
    normalize_code,
    redeem_counting,
    throttled_for,
)
from storage.members import Membership

_REFUSALS = {
    Redeemed.USED: "onboarding/used_code",
    Redeemed.EXPIRED: "onboarding/expired_code",
}
_WELCOMES = {
    Redeemed.JOINED: "onboarding/welcome",
    Redeemed.ALREADY_MEMBER: "onboarding/welcome_back",
}


async def start(update: Update, context: BotContext) -> None:
    """`/start [CODE]`: join with an invite, or be greeted."""
    assert update.effective_message is not None
    raw = " ".join(context.args or [])
    if not raw:
        await _greet(update, context)
        return
    await _redeem(update, context, raw)


async def code_without_start(update: Update, context: BotContext) -> None:
    """A code sent as plain text by someone not yet bound: treat it as `/start CODE`."""
    assert update.effective_message is not None
    await _redeem(update, context, update.effective_message.text or "")


async def _greet(update: Update, context: BotContext) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    member = await load_member(update, context)
    if member is None:
        text = render(
            "onboarding/guest", organization=context.rt.organization, example=EXAMPLE_CODE
        )
    else:
        text = _welcome("onboarding/welcome_back", update.effective_user.first_name, member)
    await update.effective_message.reply_text(text)


def _welcome(template: str, name: str, member: Membership) -> str:
    """A welcome (or welcome back) with the commands of the member's role."""
    return render(
        template,
        name=name,
        role=str(member.role),
        unit_name=member.unit_name,
        commands=commands_for(member.role, member.council_seat),
        seat=member.council_seat,
    )


def _minutes(wait: timedelta) -> int:
    return math.ceil(wait.total_seconds() / 60)


async def _redeem(update: Update, context: BotContext, raw: str) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    user, message, rt = update.effective_user, update.effective_message, context.rt
    code = normalize_code(raw)
    if not is_code_shaped(code):
        async with rt.db.read() as session:
            wait = await throttled_for(session, user.id, rt.now())
        await message.reply_text(_bad_shape_text(wait))
        return
    async with rt.db.write() as session:
        result = await redeem_counting(
            session,
            code,
            telegram_user_id=user.id,
            chat_id=message.chat_id,
            full_name=user.full_name,
            username=user.username,
            now=rt.now(),
        )
    joined = result.membership if result.outcome in _WELCOMES else None
    if joined is not None:
        context.member, context.member_loaded = joined, True
    await message.reply_text(_redeemed_text(result, code, user.first_name))
    if joined is not None:
        await _set_menu(context, joined)


def _bad_shape_text(wait: timedelta | None) -> str:
    """What a text that cannot be a code gets: the shape of one, or how long to wait."""
    if wait is None:
        return render("onboarding/bad_shape", length=CODE_LENGTH, example=EXAMPLE_CODE)
    return render("onboarding/throttled", minutes=_minutes(wait))


def _redeemed_text(result: Redemption, code: str, name: str) -> str:
    """What a redemption says: wait, a wrong, used or expired code, or welcome."""
    if result.outcome in _WELCOMES:
        assert result.membership is not None
        return _welcome(_WELCOMES[result.outcome], name, result.membership)
    if result.retry_after is not None:  # throttled, or that wrong code was the last allowed
        return render("onboarding/throttled", minutes=_minutes(result.retry_after))
    if result.outcome is Redeemed.UNKNOWN:
        return render(
            "onboarding/unknown_code",
            code=code,
            example=EXAMPLE_CODE,
            attempts_left=result.attempts_left,
        )
    return render(_REFUSALS[result.outcome])


async def _set_menu(context: BotContext, member: Membership) -> None:
    """Show this chat the commands of its role in Telegram's menu."""
    commands = [
        BotCommand(c.name, c.description) for c in commands_for(member.role, member.council_seat)
    ]
    try:
        await context.bot.set_my_commands(commands, scope=BotCommandScopeChat(member.chat_id))
    except TelegramError as exc:  # the menu is a convenience; joining already succeeded
        log.warning("set_my_commands for a member of %s failed: %s", member.unit_code, exc)


@guard()
async def help_command(update: Update, context: BotContext) -> None:
    """`/trogiup`, `/help`: the commands of the sender's role."""
    assert update.effective_message is not None and context.member is not None
    member = context.member
    await update.effective_message.reply_text(
        render(
            "onboarding/help",
            role=str(member.role),
            unit_name=member.unit_name,
            commands=commands_for(member.role, member.council_seat),
            seat=member.council_seat,
        )
    )


class _LooksLikeCode(filters.MessageFilter):
    """A plain text that has the shape of an invite code."""

    def filter(self, message: object) -> bool:
        text = getattr(message, "text", None)
        return bool(text) and looks_like_code(text)


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The onboarding commands."""
    return [CommandHandler("start", start), CommandHandler(["trogiup", "help"], help_command)]


def plain_code_handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """A code typed without /start; after the conversations, which own text while open."""
    return [MessageHandler(filters.TEXT & ~filters.COMMAND & _LooksLikeCode(), _code_if_unbound)]


async def _code_if_unbound(update: Update, context: BotContext) -> None:
    """A code-shaped text: redeem it only for someone not bound (members just get a hint)."""
    if await load_member(update, context) is None:
        await code_without_start(update, context)
    else:
        await not_understood(update, context)

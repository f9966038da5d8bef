"""`/kenh`: where a member's pushes go (Telegram, Zalo or both), the one-time code that links
a Zalo account, and taking the link away (PRODUCT §12).

Every press reads the presser's membership again (the guard): the data only say which
choice was pressed, and a member only ever changes their own account.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from handlers.common import guard, load_member, stale
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render
from messages.callbacks import Kenh, Prefix, pattern, unpack
from messages.keyboards import button, grid, label, text_button
from storage.members import Membership
from storage.models import PushTo
from storage.state import get_state
from storage.zalo_links import LINK_LIFETIME, choose, new_link_code, unlink

PREFIX = Prefix.CHANNEL
ZALO_BOT_NAME = "zalo_bot_name"  # app_state, written by the Zalo bot when it starts
_CHOICES = {Kenh.TELEGRAM: PushTo.TELEGRAM, Kenh.ZALO: PushTo.ZALO, Kenh.BOTH: PushTo.BOTH}


def _keyboard(member: Membership, zalo_on: bool) -> InlineKeyboardMarkup | None:
    if not zalo_on:
        return None
    if not member.zalo_linked:
        return grid([[button("channel_code", PREFIX, Kenh.CODE)]])
    choices = [
        text_button(label(f"channel_{choice}", selected=member.push_to is choice), PREFIX, action)
        for action, choice in _CHOICES.items()
    ]
    return grid([choices, [button("channel_unlink", PREFIX, Kenh.UNLINK)]])


async def _screen(context: BotContext, member: Membership, **extra: object) -> str:
    async with context.rt.db.read() as session:
        zalo_name = await get_state(session, ZALO_BOT_NAME) or ""
    extra.setdefault("code", None)
    extra.setdefault("changed", "")
    extra.setdefault("minutes", int(LINK_LIFETIME.total_seconds() // 60))
    return render(
        "channels/menu",
        zalo_on=context.rt.zalo,
        linked=member.zalo_linked,
        push_to=str(member.push_to),
        zalo_bot=zalo_name,
        **extra,
    )


@guard()
async def show_channels(update: Update, context: BotContext) -> None:
    """Where pushes go now, with the choices (or the link code's button)."""
    assert context.member is not None
    member = context.member
    await say_anew(update, await _screen(context, member), _keyboard(member, context.rt.zalo))


@guard()
async def press(update: Update, context: BotContext) -> None:
    """A choice, a link code asked for, or the link taken away: the member's own account."""
    assert update.callback_query is not None and context.member is not None
    member, rt = context.member, context.rt
    action = (unpack(update.callback_query.data, PREFIX) or ("", []))[0]
    if not rt.zalo or action not in {*_CHOICES, Kenh.CODE, Kenh.UNLINK}:
        await stale(update)
        return
    if action in _CHOICES and not member.zalo_linked:  # the link went away meanwhile
        await stale(update)
        return
    code = None
    async with rt.db.write() as session:
        if action == Kenh.CODE:
            code = await new_link_code(session, member.member_id, rt.now())
        elif action == Kenh.UNLINK:
            await unlink(session, member.member_id)
        else:
            await choose(session, member.member_id, _CHOICES[Kenh(action)])
    context.member_loaded = False  # read again: the choice just made
    fresh = await load_member(update, context)
    assert fresh is not None
    text = await _screen(context, fresh, code=code, changed=action)
    await say_anew(update, text, None if code else _keyboard(fresh, rt.zalo))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The channel command and its buttons."""
    return [
        CommandHandler("kenh", show_channels),
        CallbackQueryHandler(press, pattern=pattern(PREFIX)),
    ]

"""Office commands for membership: `/moi` (issue an invite) and `/donvi` (units and who joined)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from storage.invites import invite_to_unit
from storage.members import member_counts_by_unit
from storage.models import Role
from storage.units import all_units

_ROLE_WORDS = {r.value: r for r in Role}


def invite_link(bot_username: str, code: str) -> str:
    """The deep link that opens the bot with `/start CODE`."""
    return f"https://t.me/{bot_username}?start={code}"


@guard(Role.OFFICE)
async def invite(update: Update, context: BotContext) -> None:
    """`/moi UNIT [role]`: a one-time invite for a unit (office only)."""
    message, user, member = update.effective_message, update.effective_user, context.member
    assert message is not None and user is not None and member is not None
    asked = invite_asked(context.args or [])
    if asked is None:
        await message.reply_text(render("office/invite_usage", example_unit="VP"))
        return
    code, role = asked
    async with context.rt.db.write() as session:
        issued = await invite_to_unit(
            session, code, member.organization_id, role, context.rt.now(), created_by=user.id
        )
    if issued is None:  # answered after the transaction, as every reply is
        await message.reply_text(render("office/unknown_unit", code=code[:20]))
        return
    await message.reply_text(
        render(
            "office/invite_created",
            unit_name=issued.unit_name,
            unit_code=issued.unit_code,
            role=str(role),
            code=issued.invite.code,
            link=invite_link(context.bot.username, issued.invite.code),
            expires_at=issued.invite.expires_at.astimezone(context.rt.tz),
            zalo_on=context.rt.zalo,
        )
    )


def invite_asked(args: list[str]) -> tuple[str, Role] | None:
    """The unit code and role of `/moi UNIT [role]` (a focal point by default), or None."""
    words = [a.strip() for a in args]
    role = _ROLE_WORDS.get(words[1].lower()) if len(words) == 2 else Role.FOCAL
    if not 1 <= len(words) <= 2 or role is None:
        return None
    return words[0].upper(), role


@guard(Role.OFFICE, Role.LEADER)
async def list_units(update: Update, context: BotContext) -> None:
    """`/donvi`: every unit with how many members have joined."""
    assert update.effective_message is not None
    async with context.rt.db.read() as session:
        assert context.member is not None
        units = await all_units(session, context.member.organization_id)
        counts = await member_counts_by_unit(session)
    rows = [
        {
            "code": u.code,
            "name": u.name,
            "focal": counts.get(u.id, {}).get(Role.FOCAL, 0),
            "office": counts.get(u.id, {}).get(Role.OFFICE, 0),
            "leader": counts.get(u.id, {}).get(Role.LEADER, 0),
        }
        for u in units
    ]
    missing = sum(1 for r in rows if not r["focal"])
    await update.effective_message.reply_text(render("office/units", units=rows, missing=missing))


def handlers() -> list[BaseHandler[Update, BotContext, None]]:
    """The office membership commands."""
    return [CommandHandler("moi", invite), CommandHandler("donvi", list_units)]

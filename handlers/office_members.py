"""Office commands for membership: `/moi` (issue an invite) and `/donvi` (units and who joined)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from storage.invites import create_invite
from storage.members import member_counts_by_unit
from storage.models import Role
from storage.units import all_units, unit_by_code

_ROLE_WORDS = {r.value: r for r in Role}


def invite_link(bot_username: str, code: str) -> str:
    """The deep link that opens the bot with `/start CODE`."""
    return f"https://t.me/{bot_username}?start={code}"


@guard(Role.OFFICE)
async def invite(update: Update, context: BotContext) -> None:
    """`/moi UNIT [role]`: a one-time invite for a unit (office only)."""
    assert update.effective_message is not None and update.effective_user is not None
    args = [a.strip() for a in context.args or []]
    role = _ROLE_WORDS.get(args[1].lower()) if len(args) == 2 else Role.FOCAL
    if not 1 <= len(args) <= 2 or role is None:
        await update.effective_message.reply_text(render("office/invite_usage", example_unit="VP"))
        return
    code = args[0].upper()
    async with context.rt.db.write() as session:
        assert context.member is not None
        unit = await unit_by_code(session, code, context.member.organization_id)
        if unit is None:
            await update.effective_message.reply_text(render("office/unknown_unit", code=code[:20]))
            return
        issued = await create_invite(
            session, unit, role, context.rt.now(), created_by=update.effective_user.id
        )
        unit_name, unit_code = unit.name, unit.code
    await update.effective_message.reply_text(
        render(
            "office/invite_created",
            unit_name=unit_name,
            unit_code=unit_code,
            role=str(role),
            code=issued.code,
            link=invite_link(context.bot.username, issued.code),
            expires_at=issued.expires_at.astimezone(context.rt.tz),
        )
    )


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

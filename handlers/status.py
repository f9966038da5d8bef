"""`/hoso`: per open campaign, every required document ✅/❌, the review state, days left."""

from __future__ import annotations

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render, render_text
from scheduler.calendar import working_days_between
from storage.campaigns import launched_campaigns_of_unit
from storage.dossier_status import dossier_statuses
from storage.models import Role
from storage.windows import dossier_open


@guard(Role.FOCAL)
async def show_status(update: Update, context: BotContext) -> None:
    """`/hoso`: the unit's dossiers of the campaigns that take files, one message each."""
    assert update.effective_message is not None and context.member is not None
    member, now = context.member, context.rt.now()
    today = now.astimezone(context.rt.tz).date()
    async with context.rt.db.read() as session:
        campaigns = [
            c
            for c in await launched_campaigns_of_unit(session, member.unit_id, now)
            if dossier_open(c, today)
        ]
        dossiers = await dossier_statuses(session, campaigns, member.unit_id)
    if not dossiers:
        await update.effective_message.reply_text(render("status/none_open"))
        return
    screens = [
        render(
            "status/dossier",
            dossier=dossier,
            unit=member.unit_name,
            days=(dossier.campaign.dossier_deadline - today).days,
            working=working_days_between(today, dossier.campaign.dossier_deadline),
        )
        for dossier in sorted(dossiers, key=lambda d: d.campaign.dossier_deadline or today)
        if dossier.campaign.dossier_deadline is not None
    ]
    # One message when every campaign fits in it, else one message per campaign.
    together = f"\n\n{render_text('status/separator')}\n\n".join(screens)
    for text in [together] if len(together) <= MessageLimit.MAX_TEXT_LENGTH else screens:
        await update.effective_message.reply_text(text)


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The status command."""
    return [CommandHandler("hoso", show_status)]

"""`/phatdong`: the office launches a loaded campaign now, or sees the scheduled launches."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard, pressed_number, route
from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import render, render_text
from messages.keyboards import rows, text_button
from storage.campaigns import all_campaigns
from storage.launches import launch_now as bring_forward
from storage.models import Role
from storage.windows import launched

PREFIX = "pd"


@guard(Role.OFFICE)
async def show_launches(update: Update, context: BotContext) -> None:
    """`/phatdong`: launched and scheduled campaigns; a button launches one now."""
    assert update.effective_message is not None
    now = context.rt.now()
    async with context.rt.db.read() as session:
        assert context.member is not None
        campaigns = await all_campaigns(session, context.member.organization_id)
    scheduled = [c for c in campaigns if not launched(c, now)]
    recent = [c for c in campaigns if launched(c, now)][-8:]
    buttons = [
        text_button(render_text("buttons/launch_now", code=c.code), PREFIX, "now", c.id)
        for c in scheduled
    ]
    await update.effective_message.reply_text(
        render("launch/list", scheduled=scheduled, launched=recent, tz=context.rt.tz),
        reply_markup=rows(buttons) if buttons else None,
    )


@guard(Role.OFFICE)
async def launch_now(update: Update, context: BotContext) -> None:
    """The launch-now button (buttons/launch_now): the launch time becomes now; the
    scheduler sends it at once."""
    assert update.callback_query is not None
    campaign_id, now = pressed_number(update, PREFIX), context.rt.now()
    assert context.member is not None
    org_id = context.member.organization_id
    async with context.rt.db.write() as session:
        campaign = await bring_forward(session, campaign_id, org_id, now) if campaign_id else None
        title = campaign.title if campaign is not None else None
    if title is None:
        await update.callback_query.answer(render_text("alerts/stale_button"), show_alert=True)
        return
    context.rt.poke()
    await say_anew(update, render("launch/done", title=title))


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The launch command and its button."""
    return [CommandHandler("phatdong", show_launches), route(PREFIX, "now", launch_now)]

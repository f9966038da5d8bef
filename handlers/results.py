"""`/ketqua`: published council results — a unit its own, the office and leaders all."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from storage.models import Role
from storage.results import published_results


@guard()
async def show_results(update: Update, context: BotContext) -> None:
    """`/ketqua`: the decisions published so far."""
    assert update.effective_message is not None and context.member is not None
    member = context.member
    own = member.unit_id if member.role is Role.FOCAL else None
    async with context.rt.db.read() as session:
        results = await published_results(session, context.rt.now(), own, member.organization_id)
    await update.effective_message.reply_text(
        render(
            "results/list",
            results=results[-10:],
            unit=member.unit_name if own else None,
            tz=context.rt.tz,
        )
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The results command."""
    return [CommandHandler("ketqua", show_results)]

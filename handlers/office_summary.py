"""`/tonghop`: who registered, tasks done per quarter, dossiers, with the Excel workbook."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from handlers.common import guard
from handlers.runtime import BotContext
from messages import render
from messages.exports.summary_workbook import summary_workbook
from storage.models import Role
from storage.summary import office_summary


@guard(Role.OFFICE, Role.LEADER)
async def show_summary(update: Update, context: BotContext) -> None:
    """`/tonghop`: registrations per campaign and task progress, with the workbook attached."""
    assert update.effective_message is not None
    async with context.rt.db.read() as session:
        assert context.member is not None
        summary = await office_summary(
            session, context.rt.tz, context.rt.now(), org_id=context.member.organization_id
        )
    await update.effective_message.reply_text(render("office/summary", summary=summary))
    stamp = summary.generated_at.strftime("%Y%m%d-%H%M")
    await update.effective_message.reply_document(
        summary_workbook(summary),
        filename=f"tong-hop-thi-dua-{stamp}.xlsx",
        caption=render("office/summary_caption", generated_at=summary.generated_at),
    )


def handlers() -> list[BaseHandler[Update, BotContext, object]]:
    """The office summary command."""
    return [CommandHandler("tonghop", show_summary)]

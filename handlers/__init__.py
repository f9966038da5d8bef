"""Every conversation's handlers, registered in one ordered list."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    announcements,
    common,
    deadlines,
    dossier,
    launch,
    office_members,
    office_review,
    office_summary,
    onboarding,
    registration,
    results,
    status,
    tasks,
)

DEDUPE_GROUP = -2
GATE_GROUP = -1
MAIN_GROUP = 0


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler in order: the gate first, the conversations, the catch-alls last."""
    # Group -2: in webhook mode, an update delivered twice stops here the second time.
    app.add_handler(TypeHandler(Update, common.drop_redelivered), group=DEDUPE_GROUP)
    # Group -1: load the sender's membership once; unbound senders stop here.
    app.add_handler(TypeHandler(Update, common.gate_unbound), group=GATE_GROUP)
    # Group 0: the first matching handler wins, so specific before general.
    conversations = [
        *onboarding.handlers(),
        *registration.handlers(),  # conversations first: each owns text while a draft is open
        *dossier.handlers(),
        *announcements.handlers(),
        *office_review.handlers(),
        *launch.handlers(),
        *results.handlers(),
        *status.handlers(),
        *tasks.handlers(),
        *deadlines.handlers(),
        *office_summary.handlers(),
        *office_members.handlers(),
        *onboarding.plain_code_handlers(),
        *dossier.stray_handlers(),  # a file outside any conversation: kept, then placed
    ]
    for handler in conversations:
        app.add_handler(handler, group=MAIN_GROUP)
    app.add_handler(CommandHandler("huy", common.cancel_idle), group=MAIN_GROUP)
    app.add_handler(MessageHandler(filters.COMMAND, common.unknown_command), group=MAIN_GROUP)
    app.add_handler(MessageHandler(filters.ALL, common.not_understood), group=MAIN_GROUP)
    app.add_handler(CallbackQueryHandler(common.stale_button), group=MAIN_GROUP)
    app.add_error_handler(common.on_error)  # type: ignore[arg-type]

"""Every conversation's handlers, registered in one ordered list."""

from __future__ import annotations

import re

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
    ballot,
    calendar,
    channels,
    common,
    council,
    council_decision,
    dossier,
    history,
    office_announcements,
    office_archive,
    office_launch,
    office_members,
    office_review,
    office_scheduled,
    office_summary,
    onboarding,
    registration,
    results,
    review_history,
    status,
    tasks,
)
from handlers.flow import Flow, Flows
from messages import CANCEL_WORDS

# A cancel word typed alone with nothing in progress: answered as /huy is.
CANCEL_TYPED = filters.Regex(
    re.compile(rf"^\s*({'|'.join(map(re.escape, sorted(CANCEL_WORDS)))})\s*$", re.IGNORECASE)
)
DEDUPE_GROUP = -2
GATE_GROUP = -1
MAIN_GROUP = 0


def flows_of(app: Application) -> dict[str, Flow]:  # type: ignore[type-arg]
    """The flows registered on the application, by name."""
    return {
        name: flow
        for group in app.handlers.values()
        for handler in group
        if isinstance(handler, Flows)
        for name, flow in handler.flows.items()
    }


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Add every handler in order: the gate first, the conversations, the catch-alls last."""
    # Group -2: in webhook mode, an update delivered twice stops here the second time.
    app.add_handler(TypeHandler(Update, common.drop_redelivered), group=DEDUPE_GROUP)
    # Group -1: load the sender's membership once; unbound senders stop here.
    app.add_handler(TypeHandler(Update, common.gate_unbound), group=GATE_GROUP)
    # Group 0: the first matching handler wins, so specific before general.
    conversations = [
        *onboarding.handlers(),
        *registration.handlers(),  # the flows go to the Flows router above; the rest in order
        *dossier.handlers(),
        *office_announcements.handlers(),
        *office_scheduled.handlers(),
        *office_review.handlers(),
        *council.handlers(),
        *council_decision.handlers(),
        *ballot.handlers(),
        *office_archive.handlers(),
        *review_history.handlers(),
        *office_launch.handlers(),
        *results.handlers(),
        *history.handlers(),
        *status.handlers(),
        *tasks.handlers(),
        *calendar.handlers(),
        *office_summary.handlers(),
        *office_members.handlers(),
        *channels.handlers(),
        *onboarding.plain_code_handlers(),
        *dossier.stray_handlers(),  # a file outside any conversation: kept, then placed
    ]
    # Every flow behind one router, ahead of the rest: one flow per chat (handlers.flow).
    flows = [item for item in conversations if isinstance(item, Flow)]
    app.add_handler(Flows(flows, common.stale_button), group=MAIN_GROUP)
    for handler in conversations:
        if not isinstance(handler, Flow):
            app.add_handler(handler, group=MAIN_GROUP)
    app.add_handler(CommandHandler("huy", common.cancel_idle), group=MAIN_GROUP)
    app.add_handler(MessageHandler(CANCEL_TYPED, common.cancel_idle), group=MAIN_GROUP)
    app.add_handler(MessageHandler(filters.COMMAND, common.unknown_command), group=MAIN_GROUP)
    app.add_handler(MessageHandler(filters.ALL, common.not_understood), group=MAIN_GROUP)
    app.add_handler(CallbackQueryHandler(common.stale_button), group=MAIN_GROUP)
    app.add_error_handler(common.on_error)  # type: ignore[arg-type]

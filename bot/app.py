"""Wiring: build the python-telegram-bot Application from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults

import handlers
from bot.config import Settings
from handlers.runtime import RUNTIME_KEY, BotContext, Runtime
from messages.commands import GUEST_COMMANDS
from storage.db import Database
from storage.models import Unit
from storage.state import BOT_USERNAME, set_state

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


def build_application(
    settings: Settings,
    db: Database,
    *,
    clock: Callable[[], datetime] | None = None,
) -> BotApplication:
    """The bot with every handler registered, talking to settings.bot_api_base_url."""
    runtime = Runtime(
        db=db,
        tz=settings.tz,
        files_dir=settings.files_dir,
        max_file_bytes=settings.max_file_bytes,
    )
    if clock is not None:
        runtime.clock = clock
    app: BotApplication = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=BotContext))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    app.bot_data[RUNTIME_KEY] = runtime
    handlers.register(app)
    return app


async def on_startup(app: BotApplication) -> None:
    """Migrate the schema, remember the bot's username, set the guest menu."""
    runtime: Runtime = app.bot_data[RUNTIME_KEY]
    await runtime.db.migrate()
    async with runtime.db.write() as session:
        await set_state(session, BOT_USERNAME, app.bot.username)
        organization = await session.scalar(select(Unit.organization).limit(1))
    runtime.organization = organization or ""
    await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in GUEST_COMMANDS])
    log.info("bot @%s ready", app.bot.username)


async def on_shutdown(app: BotApplication) -> None:
    """Close the database pool."""
    runtime: Runtime = app.bot_data[RUNTIME_KEY]
    await runtime.db.dispose()

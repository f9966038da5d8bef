"""What every handler may use: the database, the clock, the zone, and the per-update context."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot

from messages.organizations import OrgWords, org_words
from scheduler.outgoing import to_members
from storage.db import Database
from storage.members import Membership
from storage.models import utcnow
from storage.review_decisions import FanOut


@dataclass(slots=True)
class Runtime:
    """Shared services of one running bot."""

    db: Database
    tz: ZoneInfo
    files_dir: Path
    max_file_bytes: int
    organization: str = ""
    # The words of the only body the database serves (plain words when it serves several).
    org_words: OrgWords = field(default_factory=lambda: org_words(""))
    clock: Callable[[], datetime] = field(default=utcnow)
    # Webhook mode: claim each update id in the database so a redelivery is handled once.
    dedupe: bool = False
    # The Zalo channel is configured (ZALO_BOT_TOKEN): /kenh offers it.
    zalo: bool = False
    # Set by the application: ask the scheduler to tick now (e.g. after "send now").
    poke: Callable[[], None] = field(default=lambda: None)

    def now(self) -> datetime:
        """The current instant (UTC); tests replace the clock."""
        return self.clock()

    def fan_out(self) -> FanOut:
        """How a handler's notice reaches members: on each of their channels."""
        return functools.partial(to_members, zalo=self.zalo)


@dataclass(slots=True)
class BotData:
    """What the application keeps for every update (PTB's `bot_data`, typed): the runtime.
    bot.app extends it with the scheduler and the delivery worker, which handlers never use."""

    runtime: Runtime | None = None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext with the runtime and the sender's membership (loaded once per update)."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.member: Membership | None = None
        self.member_loaded = False

    @property
    def rt(self) -> Runtime:
        """The shared services."""
        runtime = self.bot_data.runtime
        assert runtime is not None, "the application was built without its runtime"
        return runtime

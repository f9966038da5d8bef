"""What every step of /nophoso shares: its steps, its draft, its button prefix, "lost"."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from telegram import Update

from handlers.flow import Flow
from handlers.runtime import BotContext
from messages.callbacks import Dossier, Prefix

PREFIX = Prefix.DOSSIER  # the /nophoso conversation
Act = Dossier
DRAFT_KEY = "nophoso"


class State(enum.IntEnum):
    """Where an upload conversation is."""

    CAMPAIGN = 1
    NOMINEE = 2
    AWARD = 3
    NAME = 4
    DOCUMENT = 5
    FILE = 6
    TARGET = 7


@dataclass(slots=True)
class Draft:
    """The slot being filled: campaign, nominee (0 = the unit's own documents), document;
    while adding a nominee, the award and what the nominee is (`target`)."""

    unit_id: int
    campaign_id: int
    nominee_id: int | None = None
    award_id: int | None = None
    document_id: int | None = None
    target: str | None = None


FLOW: Flow[Draft, State] = Flow(
    name=DRAFT_KEY, templates="dossier", states=State, draft_type=Draft, prefix=PREFIX
)


async def lost(update: Update, context: BotContext) -> int:
    """The draft is gone (timeout, restart or another unit): say so and end."""
    return await FLOW.lost(update, context)

"""The draft and the steps of `/dangky`, and the flow they belong to."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from handlers.flow import Flow
from messages.callbacks import Prefix, Registration
from storage.people_lines import (
    PersonLine,
    Title,
)

DRAFT_KEY = "dangky"
PREFIX = Prefix.REGISTRATION
Act = Registration
TEMPLATE_MAX_BYTES = 2 * 1024 * 1024
SUMMARY_LIMIT = 40


class State(enum.IntEnum):
    """Where a registration conversation is."""

    CAMPAIGN = 1
    TITLE = 3
    PEOPLE = 4
    CONFIRM = 5
    RESUME = 6  # a draft parked by another flow: go on with it, or start again
    NAMES = 7  # names typed in one case or without diacritics: confirm how they are written


@dataclass(slots=True)
class Draft:
    """What the unit has entered so far; nothing is saved before the confirm button."""

    unit_id: int
    campaign_id: int
    collective: Title | None = None
    people: list[PersonLine] = field(default_factory=list)
    appending: bool = False
    # Names the unit confirmed as typed, though written in one case or without diacritics.
    names_confirmed: list[str] = field(default_factory=list)
    # The revision of the saved registration when this draft began (0: none): a confirm over
    # a newer one, another person's, says so.
    based_on: int = 0


FLOW: Flow[Draft, State] = Flow(
    name=DRAFT_KEY,
    templates="registration",
    states=State,
    draft_type=Draft,
    prefix=PREFIX,
    parks=True,  # an unconfirmed draft ended by another flow is offered again by /dangky
)

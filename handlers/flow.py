"""One conversation framework for every flow (PRODUCT §5, flow rules).

A chat has at most one flow in progress: its name, its step (a member of the flow's
`IntEnum`) and its draft, kept in the database as versioned JSON by `bot.conversations`
and put in place for each update as the chat's `ChatSlot`. `Flows`, one handler ahead of
every other, routes an update:

- `/huy` (or a cancel word typed alone, messages.CANCEL_WORDS) ends the flow in progress;
- a command that starts a flow ends the one in progress first, saying in one line what was
  kept and what was dropped;
- within a flow, the step's handlers get the update; a button of the flow that the step does
  not take is an old one; a message the step does not expect is answered with what it
  expects;
- anything else (read-only commands, other screens' buttons) goes on to the other handlers,
  leaving the flow where it was.

A step is an ordinary callback returning the next step, `None` (stay) or `END`; the
`with_draft` decorator loads the draft or answers "lost".
"""

from __future__ import annotations

import enum
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter
from telegram import Update
from telegram.ext import Application, BaseHandler

from handlers.replies import say_anew
from handlers.runtime import BotContext
from messages import CANCEL_WORDS, render
from messages.callbacks import prefix_of
from storage.conversations import StoredFlow

log = logging.getLogger(__name__)

END = -1  # the value a step returns to end its flow (PTB's ConversationHandler.END)
D = TypeVar("D")
S = TypeVar("S", bound=enum.IntEnum)
Step = Callable[[Update, BotContext], Awaitable[Any]]


@dataclass(slots=True)
class ChatSlot:
    """The chat's flow in progress while one update is handled (None: no flow)."""

    stored: StoredFlow | None = None
    draft: Any = None  # the decoded draft, once a step asked for it
    decoded: bool = False
    # Drafts of flows that another flow ended, by flow name (JSON), for that flow to offer.
    parked: dict[str, Any] = field(default_factory=dict)

    @property
    def flow(self) -> str | None:
        """The name of the flow in progress."""
        return self.stored.flow if self.stored and self.stored.flow else None

    def clear(self) -> None:
        """No flow in progress any more (parked drafts stay)."""
        self.stored, self.draft, self.decoded = None, None, True


# Every flow by name (a flow's name is also the key its module knows its draft by).
_REGISTRY: dict[str, Flow[Any, Any]] = {}
_SLOT: ContextVar[ChatSlot | None] = ContextVar("chat_slot", default=None)


def current_slot() -> ChatSlot | None:
    """The slot of the chat whose update is being handled (None outside a private chat)."""
    return _SLOT.get()


def put_slot(slot: ChatSlot | None) -> Any:
    """Make `slot` the current chat's (bot.conversations does, around each update)."""
    return _SLOT.set(slot)


@dataclass(eq=False)
class Flow(Generic[D, S]):
    """One multi-step conversation: its steps, its draft and what it says when it ends."""

    name: str
    states: type[S]
    draft_type: type[D] | None = None  # None: the type of the draft `begin` is given
    entries: Sequence[BaseHandler[Any, Any, Any]] = ()
    steps: Mapping[S, Sequence[BaseHandler[Any, Any, Any]]] = field(default_factory=dict)
    # Templates: "<name>/lost", "<name>/cancelled", "<name>/left", "<name>/expects".
    templates: str = ""
    prefix: str | None = None  # the callback prefix of the flow's buttons
    timeout: timedelta = timedelta(minutes=30)
    draft_version: int = 1
    # The step a /huy or the cancel button runs (it answers); default: say "<t>/cancelled".
    on_cancel: Step | None = None
    # What a message the step does not take is answered with; default: "<t>/expects".
    on_unexpected: Step | None = None
    # A first-format stored step (PTB's number) read back as this flow's step.
    legacy_step: Callable[[int], S | None] | None = None
    # Whether a draft this flow had when another flow ended it is kept for it to offer.
    parks: bool = False

    def __post_init__(self) -> None:
        self.templates = self.templates or self.name
        # Each application built in one process (tests, two instances) registers its own:
        # they are alike, the latest is the one found by name.
        _REGISTRY[self.name] = self

    # ---- the draft ---------------------------------------------------------------------------

    def begin(self, context: BotContext, draft: D | None, step: S | None = None) -> None:
        """Start this flow in the chat with a new draft (the step is set by the return)."""
        slot = _need_slot()
        first = step.name if step is not None else next(iter(self.states)).name
        slot.stored = StoredFlow(self.name, first, None, self.draft_version)
        slot.draft, slot.decoded = draft, True
        if draft is not None and self.draft_type is None:
            self.draft_type = type(draft)

    def draft(self, context: BotContext, kind: type[D] | None = None) -> D | None:
        """The flow's draft, only if this flow is in progress and the draft is of the sender's
        current unit."""
        slot = current_slot()
        if slot is None or slot.flow != self.name:
            return None
        if kind is not None and self.draft_type is None:
            self.draft_type = kind
        if not slot.decoded:
            slot.decoded = True
            slot.draft = self.decode(slot.stored.draft if slot.stored else None)
        draft = slot.draft
        member = context.member
        if draft is None or member is None:
            return None
        return draft if getattr(draft, "unit_id", member.unit_id) == member.unit_id else None

    def decode(self, data: dict[str, Any] | None) -> D | None:
        """A stored draft as the flow's draft type (None if it no longer fits)."""
        if data is None or self.draft_type is None:
            return None
        try:
            draft: D = _adapter(self.draft_type).validate_python(data)
            return draft
        except Exception as exc:
            # The error names the draft's values (what a person typed): only its kind is logged.
            log.warning(
                "flow %s: stored draft unreadable, dropped: %s", self.name, type(exc).__name__
            )
            return None

    def encode(self, draft: D) -> dict[str, Any]:
        """The draft as a JSON object."""
        data: dict[str, Any] = _adapter(type(draft)).dump_python(draft, mode="json")
        return data

    def with_draft(self, step: Callable[[Update, BotContext, D], Awaitable[Any]]) -> Step:
        """Decorate a step that needs the draft: it gets it, or the person is told the flow
        was lost (a timeout, or another unit's draft) and the flow ends."""

        @functools.wraps(step)
        async def loaded(update: Update, context: BotContext) -> Any:
            draft = self.draft(context)
            if draft is None:
                return await self.lost(update, context)
            return await step(update, context, draft)

        return loaded

    async def lost(self, update: Update, context: BotContext) -> int:
        """Say the flow's draft is gone and end it."""
        await say_anew(update, render(f"{self.templates}/lost"))
        self.end(context)
        return END

    def park(self, slot: ChatSlot, context: BotContext) -> None:
        """Keep the flow's draft (if any) for later: another flow is ending it."""
        draft = self.draft(context) if self.parks else None
        if draft is not None:
            slot.parked[self.name] = self.encode(draft)

    def parked(self, context: BotContext) -> D | None:
        """The draft parked when another flow ended this one (taken: offered once), only if
        it is of the sender's current unit."""
        slot = current_slot()
        data = slot.parked.pop(self.name, None) if slot is not None else None
        draft = self.decode(data) if isinstance(data, dict) else None
        member = context.member
        if draft is None or member is None:
            return None
        return draft if getattr(draft, "unit_id", None) == member.unit_id else None

    def end(self, context: BotContext) -> int:
        """End this flow (if it is the one in progress)."""
        slot = current_slot()
        if slot is not None and slot.flow == self.name:
            slot.clear()
        return END

    def step_of(self, stored: StoredFlow) -> S | None:
        """The stored step as a member of the flow's states (None if it has none such)."""
        return self.states.__members__.get(stored.step)


def _new_adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


# One pydantic adapter per draft type, built once.
_adapter: Callable[[Any], TypeAdapter[Any]] = functools.cache(_new_adapter)


def flow_named(name: str) -> Flow[Any, Any]:
    """The flow of this name."""
    return _REGISTRY[name]


def all_flows() -> dict[str, Flow[Any, Any]]:
    """Every flow, by name."""
    return dict(_REGISTRY)


def _need_slot() -> ChatSlot:
    slot = current_slot()
    if slot is None:  # a flow outside a private chat: kept for this update only
        slot = ChatSlot()
        put_slot(slot)
    return slot


def is_cancel(update: Update) -> bool:
    """`/huy`, or one of the cancel words of messages/templates/commands.yaml typed alone."""
    message = update.message
    if message is None or update.callback_query is not None or not message.text:
        return False
    words = message.text.strip().split()
    word = words[0].split("@", 1)[0].casefold() if len(words) == 1 else ""
    return word == "/huy" or word.removeprefix("/") in CANCEL_WORDS


class Flows(BaseHandler[Update, BotContext, Any]):
    """Routes every update that concerns a flow (see the module's text)."""

    def __init__(self, flows: Sequence[Flow[Any, Any]], stale: Step) -> None:
        super().__init__(self._unused)
        self.flows = {flow.name: flow for flow in flows}
        self._prefixes = {flow.prefix for flow in flows if flow.prefix}
        self._stale = stale

    @staticmethod
    async def _unused(update: Update, context: BotContext) -> None:  # pragma: no cover
        raise AssertionError("Flows routes to the flows' own callbacks")

    def check_update(self, update: object) -> tuple[str, Any, Any, Any] | None:
        """What to do with the update: ("cancel"|"entry"|"step"|"stale"|"unexpected", …)."""
        if not isinstance(update, Update) or update.effective_chat is None:
            return None
        if update.edited_message is not None or update.effective_chat.type != "private":
            return None
        slot = current_slot()
        flow = self.flows.get(slot.flow) if slot is not None and slot.flow else None
        if flow is not None and is_cancel(update):
            return ("cancel", flow, None, None)
        for candidate in self.flows.values():
            for handler in candidate.entries:
                check = handler.check_update(update)
                if check is not None and check is not False:
                    return ("entry", candidate, handler, check)
        if flow is None or slot is None or slot.stored is None:
            return None
        step = flow.step_of(slot.stored)
        for handler in flow.steps.get(step, ()) if step is not None else ():
            check = handler.check_update(update)
            if check is not None and check is not False:
                return ("step", flow, handler, check)
        query = update.callback_query
        if query is not None:
            # A button of a flow, not taken by the step in progress: an old one.
            return ("stale", flow, None, None) if prefix_of(query.data) in self._prefixes else None
        message = update.message
        if message is None or (message.text or "").startswith("/"):
            return None  # commands go on: read-only ones answer, leaving the flow as it is
        return ("unexpected", flow, None, None)

    async def handle_update(
        self,
        update: Update,
        application: Application[Any, BotContext, Any, Any, Any, Any],
        check_result: object,
        context: BotContext,
    ) -> Any:
        """Run what check_update chose and move the chat's flow to the step returned."""
        assert isinstance(check_result, tuple)
        what, flow, handler, check = check_result
        slot = _need_slot()
        if what == "cancel":
            await self._cancel(update, context, flow)
            slot.clear()
            return None
        if what == "stale":
            return await self._stale(update, context)
        if what == "unexpected":
            if flow.on_unexpected is not None:
                return await flow.on_unexpected(update, context)
            assert update.effective_message is not None
            step = slot.stored.step if slot.stored else None
            await update.effective_message.reply_text(
                render(f"{flow.templates}/expects", step=step)
            )
            return None
        if what == "entry" and slot.flow is not None and slot.flow != flow.name:
            # Left only for a command the sender may use: a refused one changes nothing.
            roles = getattr(handler.callback, "roles", ())
            member = context.member
            if member is not None and (not roles or member.role in roles):
                left = self.flows[slot.flow]
                left.park(slot, context)
                await self._leave(update, left)
                slot.clear()
        result = await handler.handle_update(update, application, check, context)
        self._move(slot, flow, result)
        return None

    @staticmethod
    def _move(slot: ChatSlot, flow: Flow[Any, Any], result: object) -> None:
        if not isinstance(result, int) or isinstance(result, bool):
            return  # None: the flow stays at its step
        if result == END:
            if slot.flow == flow.name:
                slot.clear()
            return
        step = flow.states(result).name
        if slot.stored is None or slot.flow != flow.name:
            slot.stored = StoredFlow(flow.name, step, None, flow.draft_version)
            slot.draft, slot.decoded = None, True
        else:
            slot.stored.step = step

    @staticmethod
    async def _cancel(update: Update, context: BotContext, flow: Flow[Any, Any]) -> None:
        if flow.on_cancel is not None:
            await flow.on_cancel(update, context)
            return
        assert update.effective_message is not None
        await update.effective_message.reply_text(render(f"{flow.templates}/cancelled"))

    @staticmethod
    async def _leave(update: Update, flow: Flow[Any, Any]) -> None:
        """One line: the flow in progress is left for the new command, and what was kept."""
        chat = update.effective_chat
        assert chat is not None
        await chat.send_message(render(f"{flow.templates}/left"))


def encode_slot(slot: ChatSlot, flows: Mapping[str, Flow[Any, Any]]) -> bytes | None:
    """The row's data for the slot after the update (None: no flow in progress)."""
    if slot.stored is None or not slot.stored.flow:
        return StoredFlow("", "", parked=slot.parked).encode() if slot.parked else None
    flow = flows.get(slot.stored.flow)
    if flow is None:
        return None
    if slot.decoded:
        slot.stored.draft = None if slot.draft is None else flow.encode(slot.draft)
    slot.stored.parked = slot.parked
    return slot.stored.encode()

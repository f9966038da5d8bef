"""Each chat's flow, carried on by whichever instance gets the chat's next update.

Around the handling of each update of a private chat, the chat's stored flow (see
storage.conversations: versioned JSON) is read and put in place as the chat's slot
(handlers.flow); after the handlers it is written back if it changed (a chat with no flow in
progress keeps no row), or if it is getting old, so that idle time counts from the person's
last update. A flow idle longer than its timeout is dropped when read. A row of the first
format (a pickle of PTB's conversation states) is converted once; one that cannot be read is
dropped with a warning.

On PostgreSQL the chat's advisory lock is held meanwhile (a session lock, outside any
transaction: the replies go out while no write transaction is open), so an instance given the
same chat's next update (a quick tap on the button just answered) waits until the flow is
stored, then reads it. SQLite runs one instance (the update processor already handles a chat's
updates one by one): the row is read once per chat after start and written when it changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.flow import ChatSlot, Flow, encode_slot, put_slot
from storage.conversations import (
    LegacyFlows,
    StoredFlow,
    UnreadableFlow,
    decode_flow,
    load_flow,
    locked_chat,
    save_flow,
    with_field_names,
)
from storage.db import Database, one_line
from storage.models import utcnow

log = logging.getLogger(__name__)

Row = tuple[bytes | None, datetime | None]  # what a chat's row holds: its data, when written
# An unchanged flow is stored again when its row is older than this (see the module's text).
REFRESH_AFTER = timedelta(minutes=1)


class SharedConversations:
    """Puts each chat's flow in place before its update is handled and stores it afterwards."""

    def __init__(self, flows: Mapping[str, Flow[Any, Any]], db: Database) -> None:
        self._flows = flows
        self._db = db
        # SQLite, one instance: what was last stored for each chat read since start (memory
        # is authoritative afterwards).
        self._rows: dict[int, Row] = {}
        self._slots: dict[int, ChatSlot] = {}

    async def handle(self, update: object, handling: Awaitable[Any]) -> None:
        """Await `handling` (the update's handlers) with the chat's flow in place, then store
        it. If the database cannot be reached for this, the update is still handled (the
        handlers then report the outage themselves)."""
        chat = _chat_of(update)
        if chat is None:
            await handling
            return
        if self._db.is_sqlite:
            await self._handle_single(chat, handling)
            return
        handled, failure = False, None
        try:
            async with locked_chat(self._db, chat) as session:
                row: Row = await load_flow(session, chat) or (None, None)
                slot = self._slot_of(chat, row)
                put_slot(slot)
                handled = True
                try:
                    await handling
                except BaseException as exc:
                    failure = exc
                    raise
                await self._store(chat, row, slot, session)
        except Exception as exc:
            if failure is not None:
                raise
            if handled:  # e.g. the lock's connection lost while the update was handled
                log.warning("conversation step not stored: %s", one_line(exc))
                return
            log.warning("conversation step not read: %s", one_line(exc))
            put_slot(ChatSlot())
            await handling

    async def _handle_single(self, chat: int, handling: Awaitable[Any]) -> None:
        if chat not in self._rows:
            try:
                async with self._db.read() as session:
                    self._rows[chat] = await load_flow(session, chat) or (None, None)
                self._slots[chat] = self._slot_of(chat, self._rows[chat])
            except Exception as exc:
                log.warning("conversation step not read: %s", one_line(exc))
        slot = self._slots.get(chat) or ChatSlot()
        put_slot(slot)
        await handling
        if chat in self._rows:
            self._rows[chat] = await self._store(chat, self._rows[chat], slot)

    async def _store(
        self, chat: int, row: Row, slot: ChatSlot, locked: AsyncSession | None = None
    ) -> Row:
        """Write the slot if it differs from the row (or the row is getting old); on
        PostgreSQL through the session of the chat's lock (one statement, autocommit)."""
        after = encode_slot(slot, self._flows)
        data, written = row
        fresh = written is not None and utcnow() - written <= REFRESH_AFTER
        if after == data and (after is None or fresh):
            return row
        now = utcnow()
        try:
            if locked is not None:
                await save_flow(locked, chat, after, now)
                return (after, now)
            async with self._db.write() as session:
                await save_flow(session, chat, after, now)
        except Exception as exc:
            log.warning("conversation step not stored: %s", one_line(exc))
            return row
        return (after, now)

    def _slot_of(self, chat: int, row: Row) -> ChatSlot:
        """The chat's flow from its row: checked, timed out, converted from the first format."""
        data, written = row
        if data is None or written is None:
            return ChatSlot()
        try:
            decoded = decode_flow(data)
        except UnreadableFlow as exc:
            # Not the error itself: it may quote the stored draft, which is what a person typed.
            log.warning("stored conversation unreadable, dropped (%s)", type(exc).__name__)
            return ChatSlot()
        stored = self._from_legacy(chat, decoded) if isinstance(decoded, LegacyFlows) else decoded
        if stored is not None and not stored.flow:  # no flow, only parked drafts
            idle = utcnow() - written
            parked = {
                name: draft
                for name, draft in stored.parked.items()
                if name in self._flows and idle <= self._flows[name].timeout
            }
            return ChatSlot(parked=parked)
        flow = self._flows.get(stored.flow) if stored is not None else None
        if stored is None or flow is None or flow.step_of(stored) is None:
            return ChatSlot()  # a flow or step this version no longer has
        if utcnow() - written > flow.timeout:
            return ChatSlot()  # left idle too long: as if it had never started
        if stored.draft_version != flow.draft_version:
            log.warning("draft of %s of another version, dropped", flow.name)
            stored.draft = None
        return ChatSlot(stored=stored, parked=stored.parked)

    def _from_legacy(self, chat: int, legacy: LegacyFlows) -> StoredFlow | None:
        """A first-format row's open step as this format's flow (its draft kept if it fits)."""
        for name, number in legacy.states.items():
            flow = self._flows.get(name)
            if flow is None:
                continue
            try:
                step = (flow.legacy_step or flow.states)(number)
            except ValueError:
                step = None
            draft = legacy.user_data.get(name)
            if not isinstance(draft, dict):
                draft = None
            elif flow.draft_type is not None:
                draft = with_field_names(flow.draft_type, draft)
            if step is None or (draft is not None and flow.decode(draft) is None):
                break
            log.info("stored step of %s converted from the first format", name)
            return StoredFlow(name, step.name, draft, flow.draft_version)
        log.warning("stored conversation of the first format dropped")
        return None


def _chat_of(update: object) -> int | None:
    """The chat of an update of a private chat, else None."""
    if not isinstance(update, Update):
        return None
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private":
        return None
    return chat.id

"""Multi-step conversations carried on by whichever instance gets the next update.

PTB keeps a ConversationHandler's steps and the drafts in `user_data` in the memory of one
process. With several instances behind the webhook (PRODUCT §9) the next message of a
/dangky may reach another instance, and a restart would lose a half-typed list of people.
So around the handling of each update of a private chat:

- the chat's stored step of every named conversation, and its `user_data`, are put in
  place (a step left idle longer than its conversation's timeout is dropped);
- after the handlers, what changed is written back; a chat with no open conversation keeps
  no row.

On PostgreSQL all of it runs in one transaction holding an advisory lock on the chat, so an
instance given the same chat's next update (a quick tap on the button just answered) waits
until the step is stored, then reads it. SQLite runs one instance (the update processor
already handles a chat's updates one by one): the row is read once per chat after start and
written whenever it changes.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application, ConversationHandler

from storage.conversations import load_conversation, lock_chat, save_conversation
from storage.db import Database, one_line
from storage.models import utcnow

log = logging.getLogger(__name__)

Key = tuple[int, int]
Stored = tuple[bytes | None, datetime | None]  # a chat's row: its data and when written
# An unchanged step is stored again when its row is older than this, so that its idle time
# counts from the person's last update, as PTB's own timer does.
REFRESH_AFTER = timedelta(minutes=1)


class SharedConversations:
    """Puts each chat's conversation steps and drafts in place before its update is handled,
    and stores them afterwards (see the module's text)."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        db: Database,
    ) -> None:
        self._app = app
        self._db = db
        # Every named conversation, by name. Times are the wall clock's (utcnow), not the
        # bot's clock that tests move by days: PTB times conversations out on it too.
        self._handlers = {
            handler.name: handler
            for group in app.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler) and handler.name
        }
        # SQLite, one instance: chats whose row has been read since start, and what was last
        # stored for each (memory is authoritative afterwards).
        self._stored: dict[int, Stored] = {}

    async def handle(self, update: object, handling: Awaitable[Any]) -> None:
        """Await `handling` (the update's handlers) with its chat's steps in place, then
        store them. If the database cannot be reached for this, the update is still handled,
        from this instance's memory (the handlers then report the outage themselves)."""
        key = _key_of(update)
        if key is None or not self._handlers:
            await handling
            return
        if self._db.is_sqlite:
            await self._handle_single(key, handling)
            return
        started = False
        failure: BaseException | None = None
        try:
            async with self._db.write() as session:
                await lock_chat(session, key[0])
                stored = await load_conversation(session, key[0])
                before = self._put_in_place(key, stored)
                started = True
                try:
                    await handling
                except BaseException as exc:
                    failure = exc
                    raise
                after = self._snapshot(key)
                if _worth_storing(before, after):
                    await save_conversation(session, key[0], after, utcnow())
        except Exception as exc:
            if failure is not None:
                raise
            if started:
                log.warning("chat %s: conversation step not stored: %s", key[0], one_line(exc))
            else:
                log.warning("chat %s: conversation step not read: %s", key[0], one_line(exc))
                await handling

    async def _handle_single(self, key: Key, handling: Awaitable[Any]) -> None:
        """SQLite, one instance: read the chat's row once after start, store what changes."""
        chat = key[0]
        if chat not in self._stored:
            try:
                async with self._db.read() as session:
                    stored = await load_conversation(session, chat)
                self._stored[chat] = self._put_in_place(key, stored)
            except Exception as exc:
                log.warning("chat %s: conversation step not read: %s", chat, one_line(exc))
        await handling
        after = self._snapshot(key)
        if chat in self._stored and _worth_storing(self._stored[chat], after):
            try:
                now = utcnow()
                async with self._db.write() as session:
                    await save_conversation(session, chat, after, now)
                self._stored[chat] = (after, now)
            except Exception as exc:
                log.warning("chat %s: conversation step not stored: %s", chat, one_line(exc))

    def _put_in_place(self, key: Key, stored: tuple[bytes, datetime] | None) -> Stored:
        """Set this chat's steps and user_data from the stored row; returns the row."""
        states: dict[str, object] = {}
        user_data: dict[Any, Any] = {}
        if stored is not None:
            data, updated_at = stored
            try:
                loaded = pickle.loads(data)  # written by _snapshot alone, never by a user
                states, user_data = dict(loaded["states"]), dict(loaded["user_data"])
            except Exception:  # e.g. a draft class changed by an upgrade
                log.warning("chat %s: stored conversation unreadable, dropped", key[0])
            idle = utcnow() - updated_at
            states = {
                name: state
                for name, state in states.items()
                if name in self._handlers  # not a conversation this version no longer has
                and not _timed_out(self._handlers[name].conversation_timeout, idle)
            }
        for name, handler in self._handlers.items():
            state = states.get(name)
            # PTB keeps the steps in this private dict; no public API sets one from outside.
            if state is None:
                handler._conversations.pop(key, None)
            else:
                handler._conversations[key] = state
            if not self._db.is_sqlite:
                # This instance's timer dates from the last step it handled itself; the stored
                # time above is the one that counts. (Handling the step starts a new timer.)
                timer = handler.timeout_jobs.pop(key, None)
                if timer is not None:
                    timer.schedule_removal()
        in_memory = self._app.user_data[key[1]]
        in_memory.clear()
        if states:
            in_memory.update(user_data)
        # What the row holds: a dropped step differs from it, so the row is then rewritten.
        return (None, None) if stored is None else stored

    def _snapshot(self, key: Key) -> bytes | None:
        """This chat's open steps and user_data, pickled; None when no conversation is open."""
        states = {
            name: state
            for name, handler in self._handlers.items()
            if isinstance(state := handler._conversations.get(key), int)
        }
        if not states:
            return None
        user_data = dict(self._app.user_data.get(key[1]) or {})
        return pickle.dumps({"states": states, "user_data": user_data})


def _worth_storing(before: Stored, after: bytes | None) -> bool:
    """Whether the chat's row must be written: its data changed, or an open step's row is
    getting old (REFRESH_AFTER)."""
    data, written = before
    if after != data:
        return True
    return after is not None and written is not None and utcnow() - written > REFRESH_AFTER


def _timed_out(timeout: float | timedelta | None, idle: timedelta) -> bool:
    if timeout is None:
        return False
    limit = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
    return idle > limit


def _key_of(update: object) -> Key | None:
    """ConversationHandler's key (chat, user) for an update of a private chat, else None."""
    if not isinstance(update, Update):
        return None
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or chat.type != "private":
        return None
    return chat.id, user.id

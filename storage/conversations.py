"""The stored flow of each chat (bot.conversations uses it): which flow, which step, its draft.

A row holds versioned JSON: `{"format": 2, "flow": "dangky", "step": "PEOPLE", "draft":
{...}, "draft_version": 1, "parked": {...}}` (`parked`: drafts of flows another flow ended,
kept for them to offer). Rows of the first format (a pickle of PTB's conversation states and
`user_data`, written by earlier versions) are read once by `legacy_flows` without importing
any class of ours, so a class renamed since cannot break the read and nothing in the row can
run code.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from sqlalchemy import Integer, bindparam, delete, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import locks
from storage.db import Database, upsert_insert
from storage.models import ConversationState

FORMAT = 2
POSITIONAL = "__values__"  # an old object known only by its field values, in field order

_LOAD = select(ConversationState.data, ConversationState.updated_at).where(
    ConversationState.chat_id == bindparam("chat")
)
_LOCK = select(
    func.pg_advisory_lock(literal(locks.CHAT_CLASS, Integer()), bindparam("key", type_=Integer()))
)
_UNLOCK = select(
    func.pg_advisory_unlock(literal(locks.CHAT_CLASS, Integer()), bindparam("key", type_=Integer()))
)


@dataclass(slots=True)
class StoredFlow:
    """One chat's flow in progress as stored: plain values, the draft as a JSON object."""

    flow: str  # "" when no flow is in progress but drafts are parked
    step: str
    draft: dict[str, Any] | None = None
    draft_version: int = 1
    # Drafts of flows another flow ended, by flow name, kept so that flow can offer them.
    parked: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The row's data: compact, key-sorted JSON (equal flows give equal bytes)."""
        payload = {
            "format": FORMAT,
            "flow": self.flow,
            "step": self.step,
            "draft": self.draft,
            "draft_version": self.draft_version,
            "parked": self.parked,
        }
        return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str).encode()


class UnreadableFlow(ValueError):
    """A stored row that is neither of this format nor of the first one."""


def decode_flow(data: bytes) -> StoredFlow | LegacyFlows:
    """The row's data as this format's flow, or the first format's steps to be converted."""
    if data[:1] == b"\x80":  # a pickle (protocol 2 and later), the first format
        return legacy_flows(data)
    try:
        payload = json.loads(data)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise UnreadableFlow("unknown format")
        draft, parked = payload.get("draft"), payload.get("parked")
        return StoredFlow(
            flow=str(payload["flow"]),
            step=str(payload["step"]),
            draft=draft if isinstance(draft, dict) else None,
            draft_version=int(payload.get("draft_version", 1)),
            parked=parked if isinstance(parked, dict) else {},
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise UnreadableFlow(str(exc)) from exc


# ---- the first format ------------------------------------------------------------------------


@dataclass(slots=True)
class LegacyFlows:
    """A first-format row: each conversation's numbered step and the drafts in `user_data`,
    every object of ours turned into a plain dict of its fields (an enum into its value)."""

    states: dict[str, int] = field(default_factory=dict)
    user_data: dict[str, Any] = field(default_factory=dict)


class _Record:
    """Stands for any class of ours met in an old pickle: keeps its fields or its value."""

    def __init__(self, *args: Any) -> None:
        self.args = args
        self.fields: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, list):  # a slots dataclass: its field values, in field order
            self.fields = {POSITIONAL: state}
        elif isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
            self.fields = {**(state[0] or {}), **(state[1] or {})}
        else:
            self.fields = dict(state or {})


_SAFE = {
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "tuple"): tuple,
    ("builtins", "list"): list,
    ("builtins", "dict"): dict,
    ("datetime", "date"): date,
    ("datetime", "datetime"): datetime,
    ("datetime", "timedelta"): timedelta,
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE:
            return _SAFE[(module, name)]
        if module == "copyreg" and name == "_reconstructor":
            return lambda cls, base, state: cls()
        if module.startswith(("builtins", "os", "subprocess", "posix", "nt", "sys")):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed")
        return type(name, (_Record,), {})


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        if value.fields:
            return {key: _plain(item) for key, item in value.fields.items()}
        return _plain(value.args[0]) if len(value.args) == 1 else None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def with_field_names(kind: Any, value: Any) -> Any:
    """An old draft read by `legacy_flows`, its positional objects given the field names of
    `kind` (a dataclass type, a list, set or optional of one, or a plain type)."""
    if isinstance(value, dict) and POSITIONAL in value and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return {
            f.name: with_field_names(hints[f.name], item)
            for f, item in zip(dataclasses.fields(kind), value[POSITIONAL], strict=False)
        }
    if isinstance(value, dict) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return {key: with_field_names(hints.get(key, Any), item) for key, item in value.items()}
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if isinstance(value, list) and args:
        return [with_field_names(args[0], item) for item in value]
    if len(args) == 1 and value is not None:  # X | None
        return with_field_names(args[0], value)
    return value


def legacy_flows(data: bytes) -> LegacyFlows:
    """Read a first-format row (see the module's text)."""
    try:
        loaded = _Unpickler(BytesIO(data)).load()
        states = {str(k): int(v) for k, v in dict(loaded["states"]).items()}
        user_data = {str(k): _plain(v) for k, v in dict(loaded["user_data"]).items()}
    except Exception as exc:
        raise UnreadableFlow(f"first-format row unreadable: {exc}") from exc
    return LegacyFlows(states, user_data)


# ---- the rows --------------------------------------------------------------------------------


async def load_flow(session: AsyncSession, chat_id: int) -> tuple[bytes, datetime] | None:
    """The stored data of the chat's flow and when it was written, or None."""
    row = (await session.execute(_LOAD, {"chat": chat_id})).first()
    return None if row is None else (row.data, row.updated_at)


async def save_flow(session: AsyncSession, chat_id: int, data: bytes | None, now: datetime) -> None:
    """Store the chat's flow, or forget it (None: no flow is in progress any more)."""
    if data is None:
        await session.execute(delete(ConversationState).where(ConversationState.chat_id == chat_id))
        return
    statement = upsert_insert(session, ConversationState).values(
        chat_id=chat_id, data=data, updated_at=now
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ConversationState.chat_id],
            set_={"data": data, "updated_at": now},
        )
    )


@asynccontextmanager
async def locked_chat(db: Database, chat_id: int) -> AsyncIterator[AsyncSession]:
    """PostgreSQL: hold the chat's advisory lock (a session lock, on a connection of its own
    that runs in autocommit, so no transaction stays open) while the chat's update is
    handled; another instance given the chat's next update waits for it. The session given
    reads and writes the chat's row on that connection, each statement committed at once:
    the replies of the update go out while no write transaction is open."""
    key = {"key": locks.int4(chat_id)}
    async with db.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(_LOCK, key)
        try:
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session
        finally:
            await connection.execute(_UNLOCK, key)

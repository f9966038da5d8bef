"""People of the sandbox: an invite code for a unit, a person who joins with one, the button
they press."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person, Sandbox
from storage.db import Database
from storage.invites import create_invite
from storage.models import Role
from storage.units import unit_by_code


async def issue_invite(
    db: Database, unit_code: str, role: Role, now: datetime | None = None
) -> str:
    """A fresh invite code for a unit."""
    async with db.write() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        invite = await create_invite(session, unit, role, now or datetime.now(UTC))
        return invite.code


async def join(sandbox: Sandbox, user_id: int, name: str, unit: str, role: Role) -> Person:
    """A person who has joined `unit` in `role` with a fresh invite (/start CODE)."""
    person = sandbox.person(user_id, name)
    reply = await person.say(
        f"/start {await issue_invite(sandbox.db, unit, role, sandbox.clock())}"
    )
    assert "Xin chào" in reply.text, reply.text
    return person


def pick(message: BotMessage, start: str) -> str:
    """The label of the message's button that starts with `start`."""
    return next(t for t in message.button_texts() if t.startswith(start) or t[2:].startswith(start))

"""The demo's council: three members voting from their phones, a reminder, the tally, the DOCX
drafts (their names and sizes in the transcript) and the published results (PRODUCT §11)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.emulator import BotMessage
from bot.emulator.sandbox import Person, Sandbox
from messages.keyboards import label
from storage.invites import create_invite
from storage.models import Role
from storage.units import unit_by_code

Jump = Callable[[datetime], None]


async def _invite(sandbox: Sandbox, unit_code: str, role: Role) -> str:
    """A fresh invite, as /moi gives the office on the day."""
    async with sandbox.db.write() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None, unit_code
        return (await create_invite(session, unit, role, sandbox.clock())).code


async def _vote(person: Person, choices: list[bool], screen: BotMessage | None = None) -> None:
    """Vote on each proposal of the ballot (opened with /bophieu unless shown) in order,
    confirming each."""
    screen = screen or (await person.say("/bophieu")).last
    for number, agree in enumerate(choices, 1):
        await person.press(screen, label("vote", number=number, agree=agree))
        screen = _now(person, screen)
        await person.press(screen, label("vote_confirm"))
        screen = _now(person, screen)


def _now(person: Person, message: BotMessage) -> BotMessage:
    return next(m for m in person.messages if m.message_id == message.message_id)


async def council_walk(
    sandbox: Sandbox, office: Person, jump: Jump, when: datetime, script: dict[str, Any]
) -> None:
    """The office's council session on the approved dossiers, from invitations to results
    (the people and the decision's number from the demo's script)."""
    jump(when)
    names = script["council"]
    director = sandbox.person(4001, names[0])
    await director.say(f"/start {await _invite(sandbox, 'LDS', Role.LEADER)}")
    await director.say(f"/start {await _invite(sandbox, 'VP', Role.COUNCIL)}")  # and a seat
    members = [director]
    for user_id, name in zip((4002, 4003), names[1:], strict=True):
        member = sandbox.person(user_id, name)
        await member.say(f"/start {await _invite(sandbox, 'VP', Role.COUNCIL)}")
        members.append(member)

    screen = await office.say("/hoidong")
    await office.press(screen.last, label("council_open"))
    await sandbox.deliver()  # each member is invited in their own chat
    ballot = (await members[0].say("/bophieu")).last
    choices = [True] * len(ballot.buttons)  # a row of two choices per proposal
    await _vote(members[0], choices, ballot)
    # One of three has voted: the quorum (2/3) is not met; the others are reminded.
    closing = await office.say("/hoidong")
    missed = await office.press(closing.last, label("council_close"))
    await office.press(missed.last, label("council_remind"))
    await sandbox.deliver()
    await _vote(members[1], choices)
    await _vote(members[2], choices)
    closing = await office.say("/hoidong")
    tally = await office.press(closing.last, label("council_close"))
    await office.press(tally.last, label("council_papers"))
    await office.press(tally.last, label("council_decide"))
    await office.say(f"{script['decision']} {when.strftime('%d/%m/%Y')}")
    await sandbox.tick()  # the results push
    await sandbox.deliver()

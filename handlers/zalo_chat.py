"""A text sent to the Zalo bot, answered (PRODUCT §12): a stranger's code links or joins, a
member's `kenh` chooses where pushes go, any other word is answered read-only
(handlers/zalo_text.py).

Everything here returns the plain-text messages to send; the transport (bot/zalo_bot.py) sends
them. Who is speaking is read from the database on every message, by the Zalo account's id
the platform gives: nothing the text says is trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from handlers.runtime import Runtime
from handlers.zalo_text import CHANNEL_WORD, command_of
from handlers.zalo_text import answer as read_only_answer
from messages import on_channel, render
from messages.organizations import OrgWords, org_words, speaking_for
from messages.plain import plain_parts
from storage.invites import CODE_LENGTH, is_code_shaped, normalize_code
from storage.members import Membership, zalo_membership
from storage.models import Channel, PushTo
from storage.text import fold
from storage.zalo_links import (
    LINK_CODE_LENGTH,
    Linked,
    Linking,
    is_link_code_shaped,
    link_with_code,
    tell_on_telegram,
)
from storage.zalo_links import choose as choose_channel

EXAMPLE_CODE = "K7M2QX9PTA"
# What `kenh` takes after it, folded (storage.text.fold: no case, no diacritics, no spaces).
_CHOICES = {
    "telegram": PushTo.TELEGRAM,
    "tele": PushTo.TELEGRAM,
    "zalo": PushTo.ZALO,
    "cahai": PushTo.BOTH,
    "ca2": PushTo.BOTH,
    "hai": PushTo.BOTH,
    "both": PushTo.BOTH,
}
_REFUSED = {
    Linked.USED: "zalo_link/used",
    Linked.EXPIRED: "zalo_link/expired",
    Linked.TAKEN: "zalo_link/taken",
}


@dataclass(frozen=True, slots=True)
class ZaloText:
    """One message from a Zalo account, as the platform told it."""

    user_id: str
    chat_id: str
    name: str
    text: str


async def converse(rt: Runtime, message: ZaloText) -> list[str]:
    """The messages answering this text (at least one, each within Zalo's limit)."""
    with on_channel(Channel.ZALO):
        async with rt.db.read() as session:
            member = await zalo_membership(session, message.user_id)
        if member is None:
            with speaking_for(rt.org_words):
                return await _stranger(rt, message)
        if _code_in(message.text) is not None:  # a member sends a code again: who they are
            return _linked_text(Linking(Linked.ALREADY, member), "")
        asked = command_of(message.text)
        if asked is not None and asked[0] == CHANNEL_WORD:
            with speaking_for(_words_of(member)):
                return await _channel(rt, member, "".join(asked[1]))
        return await read_only_answer(rt, member, message.text)


def not_text() -> list[str]:
    """What a picture, a sticker or a file sent to the Zalo bot gets: where files go."""
    with on_channel(Channel.ZALO):
        return _say("zalo_link/not_text")


def _words_of(member: Membership) -> OrgWords:
    return org_words(member.org_name, member.org_office, member.org_head, member.org_short)


def _say(screen: str, **values: object) -> list[str]:
    return plain_parts(render(screen, **values))


def _code_in(text: str) -> str | None:
    """The text as a code (an invite's or a link's, any case, with or without /start)."""
    code = normalize_code(text.strip().removeprefix("/start").strip())
    return code if is_code_shaped(code) or is_link_code_shaped(code) else None


async def _stranger(rt: Runtime, message: ZaloText) -> list[str]:
    """Someone not linked: a code-shaped text is tried as a code, anything else is told how."""
    code = _code_in(message.text)
    if code is None:
        return _say(
            "zalo_link/guest",
            organization=rt.organization,
            length=CODE_LENGTH,
            link_length=LINK_CODE_LENGTH,
            example=EXAMPLE_CODE,
        )
    now = rt.now()
    async with rt.db.write() as session:
        result = await link_with_code(
            session,
            code,
            zalo_user_id=message.user_id,
            zalo_chat_id=message.chat_id,
            name=message.name,
            now=now,
        )
        with on_channel(Channel.TELEGRAM):  # read there, in Telegram's words
            notice = render("zalo_link/telegram_notice", zalo_name=message.name, at=now)
        told = await tell_on_telegram(session, result, notice, now)
    if told:
        rt.poke()  # the Telegram notice is in the outbox
    return _linked_text(result, code)


def _linked_text(result: Linking, code: str) -> list[str]:
    if result.outcome in (Linked.JOINED, Linked.LINKED, Linked.ALREADY):
        member = result.membership
        assert member is not None
        with speaking_for(_words_of(member)):
            return _say(
                "zalo_link/welcome",
                outcome=str(result.outcome),
                role=str(member.role),
                unit_name=member.unit_name,
                push_to=str(member.push_to),
            )
    if result.retry_after is not None:
        minutes = math.ceil(result.retry_after.total_seconds() / 60)
        return _say("zalo_link/throttled", minutes=minutes)
    if result.outcome is Linked.UNKNOWN:
        return _say(
            "zalo_link/unknown_code",
            code=code,
            example=EXAMPLE_CODE,
            attempts_left=result.attempts_left,
        )
    return _say(_REFUSED[result.outcome])


async def _channel(rt: Runtime, member: Membership, asked: str) -> list[str]:
    """`kenh`: where pushes go now; `kenh zalo`, `kenh telegram`, `kenh ca hai` change it."""
    if not asked:
        return _say("zalo_link/channel", push_to=str(member.push_to), telegram=member.chat_id)
    choice = _CHOICES.get(fold(asked).replace(" ", ""))
    if choice is None:
        return _say("zalo_link/channel", push_to=str(member.push_to), telegram=member.chat_id)
    if choice is not PushTo.ZALO and member.chat_id is None:
        return _say("zalo_link/no_telegram")
    async with rt.db.write() as session:
        await choose_channel(session, member.member_id, choice)
    return _say("zalo_link/channel_set", push_to=str(choice))

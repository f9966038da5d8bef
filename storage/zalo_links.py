"""A member's Zalo account (PRODUCT §12): linking it, choosing where pushes go, and where each
push goes.

A person links Zalo by sending the Zalo bot a code:
- the invite code of their unit: unused, it makes them a member on Zalo only (as `/start CODE`
  does on Telegram); already used on Telegram, it links Zalo to the member who used it, while
  the code is still valid and that member has no Zalo account yet;
- or the one-time link code `/kenh` gives a member on Telegram (`LINK_LIFETIME`).
Wrong codes are counted and throttled like Telegram's, per Zalo account.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.invites import (
    CODE_ALPHABET,
    attempts_left,
    record_wrong_code,
    throttled_for,
)
from storage.members import Membership, zalo_membership
from storage.models import Channel, Invite, Member, PushTo, Unit
from storage.outbox import Outgoing, enqueue

LINK_CODE_LENGTH = 8  # shorter than an invite code (10), so the two never look alike
LINK_LIFETIME = timedelta(minutes=30)


class Linked(enum.StrEnum):
    """How a code sent to the Zalo bot ended."""

    JOINED = "joined"  # a new member, on Zalo only
    LINKED = "linked"  # Zalo linked to an existing member
    ALREADY = "already"  # this Zalo account is already that member's
    TAKEN = "taken"  # the member already has another Zalo account
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Linking:
    """The outcome, and the binding when there is one."""

    outcome: Linked
    membership: Membership | None = None
    retry_after: timedelta | None = None
    attempts_left: int = 0
    telegram_chat: int | None = None  # LINKED: the member's Telegram chat, to be told


def zalo_account_key(zalo_user_id: str) -> int:
    """The Zalo account as the wrong-code counter and `Invite.used_by` know accounts: a
    negative number, so it never equals a Telegram user id (always positive)."""
    digest = hashlib.sha256(zalo_user_id.encode()).digest()
    return -(int.from_bytes(digest[:7], "big") + 1)


def is_link_code_shaped(code: str) -> bool:
    """Whether a normalised code could be a link code."""
    return len(code) == LINK_CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def routes(member: Member, zalo_on: bool) -> tuple[Channel, ...]:
    """Where a push to this member goes: the channels of their choice that can reach them,
    else whichever one can (a member on Zalo only is a full recipient); none if neither."""
    telegram = member.chat_id is not None
    zalo = zalo_on and member.zalo_chat_id is not None and member.zalo_left_at is None
    chosen = member.push_to
    out: list[Channel] = []
    if telegram and (chosen in (PushTo.TELEGRAM, PushTo.BOTH) or not zalo):
        out.append(Channel.TELEGRAM)
    if zalo and (chosen in (PushTo.ZALO, PushTo.BOTH) or not telegram):
        out.append(Channel.ZALO)
    return tuple(out)


async def choose(session: AsyncSession, member_id: int, push_to: PushTo) -> Member | None:
    """The member's choice of where pushes go (kept even if a channel is not linked yet:
    `routes` falls back to the one that works)."""
    member = await session.get(Member, member_id)
    if member is not None:
        member.push_to = push_to
    return member


async def new_link_code(session: AsyncSession, member_id: int, now: datetime) -> str:
    """A fresh one-time code that links a Zalo account to this member (the last one given
    stops working)."""
    member = await session.get_one(Member, member_id)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(LINK_CODE_LENGTH))
    member.link_code = code
    member.link_code_expires_at = now + LINK_LIFETIME
    await session.flush()
    return code


async def unlink(session: AsyncSession, member_id: int) -> Member | None:
    """The member's Zalo account is no longer theirs (pushes go to Telegram)."""
    member = await session.get(Member, member_id)
    if member is not None and member.telegram_user_id is not None:
        _forget_zalo(member)
        member.push_to = PushTo.TELEGRAM
    return member


def _forget_zalo(member: Member) -> None:
    member.zalo_user_id = member.zalo_chat_id = member.zalo_name = None
    member.zalo_linked_at = member.zalo_left_at = None


async def link_with_code(
    session: AsyncSession,
    code: str,
    *,
    zalo_user_id: str,
    zalo_chat_id: str,
    name: str,
    now: datetime,
) -> Linking:
    """A normalised code sent by a Zalo account: join, link, or say why not (counted)."""
    account = zalo_account_key(zalo_user_id)
    wait = await throttled_for(session, account, now)
    if wait is not None:
        return Linking(Linked.THROTTLED, retry_after=wait)
    found = await _by_link_code(session, code, zalo_user_id, zalo_chat_id, name, now)
    if found is None:
        found = await _by_invite(session, code, account, zalo_user_id, zalo_chat_id, name, now)
    if found is not None:
        return found
    await record_wrong_code(session, account, now)
    return Linking(
        Linked.UNKNOWN,
        retry_after=await throttled_for(session, account, now),
        attempts_left=await attempts_left(session, account, now),
    )


async def _by_link_code(
    session: AsyncSession, code: str, zalo_id: str, chat: str, name: str, now: datetime
) -> Linking | None:
    if not is_link_code_shaped(code):
        return None
    member = await session.scalar(
        select(Member).where(Member.link_code == code, Member.active.is_(True))
    )
    if member is None:
        return None
    if member.link_code_expires_at is None or member.link_code_expires_at <= now:
        return Linking(Linked.EXPIRED)
    member.link_code = member.link_code_expires_at = None  # one use
    return await _attach(session, member, zalo_id, chat, name, now)


async def _by_invite(
    session: AsyncSession,
    code: str,
    account: int,
    zalo_id: str,
    chat: str,
    name: str,
    now: datetime,
) -> Linking | None:
    invite = await session.scalar(select(Invite).where(Invite.code == code)) if code else None
    if invite is None:
        return None
    if invite.expires_at <= now:
        return Linking(Linked.EXPIRED)
    if invite.used_at is None:
        # Claimed with a guarded UPDATE: of two accounts racing, exactly one wins.
        claimed = await session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.used_at.is_(None))
            .values(used_at=now, used_by=account)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return Linking(Linked.USED)
        return await _join(session, invite, zalo_id, chat, name, now)
    # Used already: by this Zalo account, or on Telegram by the member it links to.
    member = await session.scalar(
        select(Member).where(Member.invite_id == invite.id, Member.active.is_(True))
    )
    if member is None:
        return Linking(Linked.USED)
    return await _attach(session, member, zalo_id, chat, name, now)


async def _attach(
    session: AsyncSession, member: Member, zalo_id: str, chat: str, name: str, now: datetime
) -> Linking:
    """Link the Zalo account to an existing member, unless it has another one."""
    if member.zalo_user_id == zalo_id and member.zalo_left_at is None:
        return Linking(Linked.ALREADY, await zalo_membership(session, zalo_id))
    if member.zalo_user_id is not None and member.zalo_left_at is None:
        return Linking(Linked.TAKEN)
    await _release_account(session, zalo_id, member.id)
    member.zalo_user_id, member.zalo_chat_id, member.zalo_name = zalo_id, chat, name[:300]
    member.zalo_linked_at, member.zalo_left_at = now, None
    # Linked to receive there: Zalo only for a member without Telegram, else both (until
    # the member chooses otherwise with /kenh or "kenh").
    member.push_to = PushTo.ZALO if member.telegram_user_id is None else PushTo.BOTH
    await session.flush()
    return Linking(
        Linked.LINKED, await zalo_membership(session, zalo_id), telegram_chat=member.chat_id
    )


async def _join(
    session: AsyncSession, invite: Invite, zalo_id: str, chat: str, name: str, now: datetime
) -> Linking:
    """A new member on Zalo only, bound by an unused invite."""
    await _release_account(session, zalo_id, None)
    unit = await session.get_one(Unit, invite.unit_id)
    member = Member(
        telegram_user_id=None,
        chat_id=None,
        unit_id=unit.id,
        role=invite.role,
        full_name=name[:300],
        invite_id=invite.id,
        active=True,
        joined_at=now,
        zalo_user_id=zalo_id,
        zalo_chat_id=chat,
        zalo_name=name[:300],
        zalo_linked_at=now,
        push_to=PushTo.ZALO,
    )
    session.add(member)
    await session.flush()
    return Linking(Linked.JOINED, await zalo_membership(session, zalo_id))


async def _release_account(session: AsyncSession, zalo_id: str, keep: int | None) -> None:
    """A Zalo account belongs to one member: an older binding of it (left, or another
    member's) lets go of it first. A member on Zalo only who loses it stops being one."""
    for other in await session.scalars(select(Member).where(Member.zalo_user_id == zalo_id)):
        if other.id == keep:
            continue
        _forget_zalo(other)
        if other.telegram_user_id is None:
            other.active = False
        else:
            other.push_to = PushTo.TELEGRAM
    await session.flush()


async def tell_on_telegram(
    session: AsyncSession, linking: Linking, text: str, now: datetime
) -> bool:
    """The member just linked hears on Telegram (`text`, through the outbox, in the caller's
    transaction) that a Zalo account was linked to them; False if they have no Telegram."""
    if linking.outcome is not Linked.LINKED or linking.membership is None:
        return False
    chat, member_id = linking.telegram_chat, linking.membership.member_id
    if chat is None:
        return False
    key = f"zalo_linked:{member_id}:{int(now.timestamp())}"
    await enqueue(session, [Outgoing(key, key, "zalo_linked", chat, text, now, member_id)], now)
    return True

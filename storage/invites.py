"""Invites: issue one-time codes and redeem them, with throttling of wrong guesses."""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.members import Membership, active_membership, bind_member
from storage.models import CodeAttempt, Invite, Role, Unit
from storage.units import unit_by_code

# No 0/O, 1/I/L: a code read aloud over the phone or typed from paper survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CODE_SHAPE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
INVITE_LIFETIME = timedelta(days=14)
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)


class Redeemed(enum.StrEnum):
    """How a `/start CODE` ended."""

    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Redemption:
    """The outcome of a redemption and, when it bound the account, the binding."""

    outcome: Redeemed
    membership: Membership | None = None
    retry_after: timedelta | None = None
    attempts_left: int = 0  # after a wrong code (set by redeem_counting)


def normalize_code(raw: str) -> str:
    """A code as typed (any case, spaces or dashes) in its canonical form."""
    return re.sub(r"[\s\-]", "", raw).upper()


def is_code_shaped(code: str) -> bool:
    """Whether a normalized code could be one we issued."""
    return bool(CODE_SHAPE.match(code))


def new_code() -> str:
    """A fresh random invite code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def create_invite(
    session: AsyncSession, unit: Unit, role: Role, now: datetime, created_by: int | None = None
) -> Invite:
    """Issue a one-time invite for the unit and role, valid for 14 days."""
    invite = Invite(
        code=new_code(),
        unit_id=unit.id,
        role=role,
        created_at=now,
        expires_at=now + INVITE_LIFETIME,
        created_by=created_by,
    )
    session.add(invite)
    await session.flush()
    return invite


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    """An invite just issued, with the unit it lets one join."""

    invite: Invite
    unit_name: str
    unit_code: str


async def invite_to_unit(
    session: AsyncSession,
    unit_code: str,
    organization_id: int,
    role: Role,
    now: datetime,
    created_by: int | None = None,
) -> IssuedInvite | None:
    """Issue an invite for the organisation's unit with this code; None if it has none such."""
    unit = await unit_by_code(session, unit_code, organization_id)
    if unit is None:
        return None
    invite = await create_invite(session, unit, role, now, created_by=created_by)
    return IssuedInvite(invite, unit.name, unit.code)


async def throttled_for(
    session: AsyncSession, telegram_user_id: int, now: datetime
) -> timedelta | None:
    """How long this account must wait before trying another code, or None."""
    since = now - WRONG_CODE_WINDOW
    attempts = list(
        await session.scalars(
            select(CodeAttempt.at)
            .where(CodeAttempt.telegram_user_id == telegram_user_id, CodeAttempt.at > since)
            .order_by(CodeAttempt.at)
        )
    )
    if len(attempts) < MAX_WRONG_CODES:
        return None
    # Free again once the oldest counted attempt leaves the window.
    return attempts[-MAX_WRONG_CODES] + WRONG_CODE_WINDOW - now


async def attempts_left(session: AsyncSession, telegram_user_id: int, now: datetime) -> int:
    """How many more wrong codes this account may send before it is throttled."""
    used = await session.scalar(
        select(func.count())
        .select_from(CodeAttempt)
        .where(
            CodeAttempt.telegram_user_id == telegram_user_id,
            CodeAttempt.at > now - WRONG_CODE_WINDOW,
        )
    )
    return max(MAX_WRONG_CODES - int(used or 0), 0)


async def record_wrong_code(session: AsyncSession, telegram_user_id: int, now: datetime) -> None:
    """Remember a wrong code, and forget this account's attempts older than the window."""
    await session.execute(
        delete(CodeAttempt).where(
            CodeAttempt.telegram_user_id == telegram_user_id,
            CodeAttempt.at <= now - WRONG_CODE_WINDOW,
        )
    )
    session.add(CodeAttempt(telegram_user_id=telegram_user_id, at=now))


async def redeem_invite(
    session: AsyncSession,
    code: str,
    *,
    telegram_user_id: int,
    chat_id: int,
    full_name: str,
    username: str | None,
    now: datetime,
) -> Redemption:
    """Bind the account with an unused, unexpired invite; count wrong codes."""
    wait = await throttled_for(session, telegram_user_id, now)
    if wait is not None:
        return Redemption(Redeemed.THROTTLED, retry_after=wait)
    invite = await session.scalar(select(Invite).where(Invite.code == code)) if code else None
    if invite is None:
        await record_wrong_code(session, telegram_user_id, now)
        return Redemption(Redeemed.UNKNOWN)
    unit = await session.get_one(Unit, invite.unit_id)
    if invite.used_at is not None:
        if invite.used_by == telegram_user_id:
            current = await active_membership(session, telegram_user_id)
            if current is not None:
                return Redemption(Redeemed.ALREADY_MEMBER, current)
        return Redemption(Redeemed.USED)
    if invite.expires_at <= now:
        return Redemption(Redeemed.EXPIRED)
    # Claim the code with a guarded UPDATE: of two accounts racing, exactly one wins.
    claimed = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by=telegram_user_id)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return Redemption(Redeemed.USED)
    membership = await bind_member(
        session,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        unit=unit,
        role=invite.role,
        full_name=full_name,
        username=username,
        invite_id=invite.id,
        now=now,
    )
    return Redemption(Redeemed.JOINED, membership)


async def redeem_counting(
    session: AsyncSession,
    code: str,
    *,
    telegram_user_id: int,
    chat_id: int,
    full_name: str,
    username: str | None,
    now: datetime,
) -> Redemption:
    """`redeem_invite`; after a wrong code, also how long to wait now (`retry_after`, when it
    was the last one allowed) and how many tries are left."""
    result = await redeem_invite(
        session,
        code,
        telegram_user_id=telegram_user_id,
        chat_id=chat_id,
        full_name=full_name,
        username=username,
        now=now,
    )
    if result.outcome is not Redeemed.UNKNOWN:
        return result
    return Redemption(
        Redeemed.UNKNOWN,
        retry_after=await throttled_for(session, telegram_user_id, now),
        attempts_left=await attempts_left(session, telegram_user_id, now),
    )

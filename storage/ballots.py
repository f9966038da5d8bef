"""A council member's secret ballot (PRODUCT §11).

A vote is two writes in one transaction: a receipt (this member has voted on this proposal)
and one more in the proposal's "agree" or "disagree" count. The receipt says nothing of the
choice and carries no time; the count is one row per proposal updated in place, with nothing of
the voter. No other table, log line or outbox row is written for a vote."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Award,
    Campaign,
    CouncilProposal,
    CouncilReceipt,
    CouncilSeat,
    CouncilSession,
    CouncilState,
    Unit,
)


@dataclass(frozen=True, slots=True)
class BallotLine:
    """A proposal on a member's ballot, and whether this member has voted on it."""

    proposal_id: int
    number: int
    name: str
    unit_name: str
    award_name: str
    voted: bool


@dataclass(frozen=True, slots=True)
class Ballot:
    """A member's ballot of one session."""

    session_id: int
    campaign_title: str
    open: bool
    lines: tuple[BallotLine, ...]

    @property
    def left(self) -> int:
        """Proposals this member has not voted on yet."""
        return sum(1 for line in self.lines if not line.voted)


class Cast(enum.StrEnum):
    """How a vote ended."""

    COUNTED = "counted"
    ALREADY = "already"  # this member has voted on this proposal
    CLOSED = "closed"  # the session is no longer open
    UNKNOWN = "unknown"  # not this member's ballot, or no such proposal


async def open_ballots(session: AsyncSession, member_id: int) -> list[int]:
    """The open sessions on whose roll the member is, newest first."""
    rows = await session.scalars(
        select(CouncilSession.id)
        .join(CouncilSeat, CouncilSeat.session_id == CouncilSession.id)
        .where(CouncilSeat.member_id == member_id, CouncilSession.state == CouncilState.OPEN)
        .order_by(CouncilSession.id.desc())
    )
    return list(rows)


async def ballot(session: AsyncSession, session_id: int, member_id: int) -> Ballot | None:
    """The member's ballot of a session, or None when the member is not on its roll."""
    row = (
        await session.execute(
            select(CouncilSession.state, Campaign.title)
            .join(Campaign, Campaign.id == CouncilSession.campaign_id)
            .join(CouncilSeat, CouncilSeat.session_id == CouncilSession.id)
            .where(CouncilSession.id == session_id, CouncilSeat.member_id == member_id)
        )
    ).first()
    if row is None:
        return None
    voted = exists().where(
        CouncilReceipt.proposal_id == CouncilProposal.id, CouncilReceipt.member_id == member_id
    )
    lines = await session.execute(
        select(CouncilProposal.id, CouncilProposal.name, Unit.name, Award.name, voted)
        .join(Unit, Unit.id == CouncilProposal.unit_id)
        .join(Award, Award.id == CouncilProposal.award_id)
        .where(CouncilProposal.session_id == session_id)
        .order_by(CouncilProposal.position, CouncilProposal.id)
    )
    return Ballot(
        session_id,
        row[1],
        row[0] is CouncilState.OPEN,
        tuple(
            BallotLine(pid, i + 1, name, unit, award, bool(done))
            for i, (pid, name, unit, award, done) in enumerate(lines)
        ),
    )


async def cast(
    session: AsyncSession, session_id: int, proposal_id: int, member_id: int, agree: bool
) -> Cast:
    """Count one member's vote on one proposal, once. The session's row is locked for share
    (PostgreSQL) so that a vote and the office's closing never cross, and the member's seat for
    update so that two presses of one member never both count."""
    state = await session.scalar(
        select(CouncilSession.state)
        .join(CouncilSeat, CouncilSeat.session_id == CouncilSession.id)
        .join(CouncilProposal, CouncilProposal.session_id == CouncilSession.id)
        .where(
            CouncilSession.id == session_id,
            CouncilSeat.member_id == member_id,
            CouncilProposal.id == proposal_id,
        )
        .with_for_update(read=True, of=CouncilSession)
    )
    if state is None:
        return Cast.UNKNOWN
    if state is not CouncilState.OPEN:
        return Cast.CLOSED
    # One member's votes one at a time, even from two instances: the second finds the receipt.
    await session.scalar(
        select(CouncilSeat.member_id)
        .where(CouncilSeat.session_id == session_id, CouncilSeat.member_id == member_id)
        .with_for_update()
    )
    done = await session.scalar(
        select(CouncilReceipt.member_id).where(
            CouncilReceipt.proposal_id == proposal_id, CouncilReceipt.member_id == member_id
        )
    )
    if done is not None:
        return Cast.ALREADY
    session.add(CouncilReceipt(proposal_id=proposal_id, member_id=member_id, session_id=session_id))
    column = CouncilProposal.yes if agree else CouncilProposal.no
    await session.execute(
        update(CouncilProposal)
        .where(CouncilProposal.id == proposal_id)
        .values({column: column + 1})
    )
    await session.flush()
    return Cast.COUNTED

"""The council's counts (PRODUCT §11): who of the roll has voted (receipts, never votes) and,
per award, each proposal's agreeing and disagreeing votes against the award's rule and quota."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.council_rules import VoteRule, vote_rule_of
from storage.models import Award, CouncilProposal, CouncilReceipt, CouncilSeat, Unit


@dataclass(frozen=True, slots=True)
class Seat:
    """A member on the roll, and whether they have voted on every proposal, some, or none."""

    member_id: int
    name: str
    voted: int  # proposals voted on
    reminded: int


@dataclass(frozen=True, slots=True)
class Turnout:
    """Who of the roll has voted: present = voted on at least one proposal."""

    seats: tuple[Seat, ...]
    proposals: int

    @property
    def total(self) -> int:
        return len(self.seats)

    @property
    def present(self) -> int:
        return sum(1 for s in self.seats if s.voted > 0)

    @property
    def waiting(self) -> tuple[Seat, ...]:
        """Members who have not voted on every proposal."""
        return tuple(s for s in self.seats if s.voted < self.proposals)


@dataclass(frozen=True, slots=True)
class Counted:
    """A proposal as the tally has it."""

    proposal_id: int
    nominee_id: int | None
    unit_id: int
    unit_name: str
    name: str
    yes: int
    no: int
    carried: bool  # the award's share reached
    within_quota: bool  # carried and within the award's quota (goes into the decision)


@dataclass(frozen=True, slots=True)
class AwardCount:
    """An award's proposals, its rule and its quota."""

    award_id: int
    code: str
    name: str
    target: str
    rule: VoteRule
    quota: int | None
    needed: int  # agreeing votes that carry a proposal, with the present count
    proposals: tuple[Counted, ...]


async def turnout(session: AsyncSession, session_id: int) -> Turnout:
    """The roll with how many proposals each member has voted on (receipts, never votes)."""
    voted = (
        select(CouncilReceipt.member_id, func.count().label("n"))
        .where(CouncilReceipt.session_id == session_id)
        .group_by(CouncilReceipt.member_id)
        .subquery()
    )
    rows = await session.execute(
        select(CouncilSeat.member_id, CouncilSeat.name, voted.c.n, CouncilSeat.reminded)
        .outerjoin(voted, voted.c.member_id == CouncilSeat.member_id)
        .where(CouncilSeat.session_id == session_id)
        .order_by(CouncilSeat.name, CouncilSeat.member_id)
    )
    seats = tuple(Seat(m, name, n or 0, r) for m, name, n, r in rows)
    proposals = await session.scalar(
        select(func.count()).where(CouncilProposal.session_id == session_id)
    )
    return Turnout(seats, proposals or 0)


async def award_counts(
    session: AsyncSession, session_id: int, present: int, members: int, *, sealed: bool
) -> tuple[AwardCount, ...]:
    """Per award, its proposals; `sealed` (the session still open): without their counts."""
    rows = (
        await session.execute(
            select(
                CouncilProposal.id,
                CouncilProposal.nominee_id,
                CouncilProposal.unit_id,
                Unit.name,
                CouncilProposal.name,
                CouncilProposal.yes,
                CouncilProposal.no,
                Award,
            )
            .join(Award, Award.id == CouncilProposal.award_id)
            .join(Unit, Unit.id == CouncilProposal.unit_id)
            .where(CouncilProposal.session_id == session_id)
            .order_by(CouncilProposal.position)
        )
    ).all()
    by_award: dict[int, tuple[Award, list[tuple[int, int | None, int, str, str, int, int]]]] = {}
    for pid, nominee_id, unit_id, unit_name, name, yes, no, award in rows:
        seen = (0, 0) if sealed else (yes, no)
        by_award.setdefault(award.id, (award, []))[1].append(
            (pid, nominee_id, unit_id, unit_name, name, *seen)
        )
    counted: list[AwardCount] = []
    for award, proposals in by_award.values():
        rule = vote_rule_of(award.vote_threshold, award.vote_of)
        carried = [p for p in proposals if not sealed and rule.carries(p[5], present, members)]
        # Over the whole quota, the most agreeing votes go first (the proposals' order on a tie).
        ranked = sorted(carried, key=lambda p: -p[5])
        kept = {p[0] for p in (ranked if award.quota is None else ranked[: award.quota])}
        carried_ids = {p[0] for p in carried}
        counted.append(
            AwardCount(
                award_id=award.id,
                code=award.code,
                name=award.name,
                target=str(award.target),
                rule=rule,
                quota=award.quota,
                needed=rule.needed(present, members),
                proposals=tuple(
                    Counted(*p, carried=p[0] in carried_ids, within_quota=p[0] in kept)
                    for p in proposals
                ),
            )
        )
    return tuple(counted)

"""The council session (PRODUCT §11): the roll, the approved proposals put to the vote, the
quorum, the tally and the decision that turns it into published results.

How members vote is in storage.ballots; this module reads only the counts and who has voted."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import DossierEvent, record_event
from storage.council_rules import Share, quorum_of
from storage.council_tally import AwardCount, Turnout, award_counts, turnout
from storage.models import (
    Award,
    Campaign,
    CouncilProposal,
    CouncilResult,
    CouncilSeat,
    CouncilSession,
    CouncilState,
    Member,
    Nominee,
    ReviewState,
    Unit,
)
from storage.results import ResultItemSpec, upsert_result


class Opened(enum.StrEnum):
    """How opening a session ended."""

    OPENED = "opened"
    ALREADY = "already"  # a session of the campaign is open or waits for its decision
    NO_MEMBERS = "no_members"
    NO_PROPOSALS = "no_proposals"


@dataclass(frozen=True, slots=True)
class SessionView:
    """A session as the office's screen shows it."""

    id: int
    campaign_id: int
    state: CouncilState
    quorum: Share
    opened_at: datetime
    opened_by_name: str
    closed_at: datetime | None
    closed_by_name: str | None
    turnout: Turnout
    awards: tuple[AwardCount, ...]
    result_id: int | None

    @property
    def quorum_met(self) -> bool:
        return self.quorum.met(self.turnout.present, self.turnout.total)

    @property
    def quorum_needed(self) -> int:
        return self.quorum.needed(self.turnout.total)


@dataclass(frozen=True, slots=True)
class Act:
    """An act of the office on the session, as each dossier's history keeps it."""

    campaign_id: int
    event: DossierEvent
    actor_id: int | None
    actor_name: str
    at: datetime


async def _record(
    session: AsyncSession,
    act: Act,
    dossiers: Iterable[tuple[int, int | None, Mapping[str, object] | None]],
) -> None:
    """The act in the history of each (unit, nominee, detail) dossier still there."""
    for unit_id, nominee_id, detail in dossiers:
        if nominee_id is not None:
            await record_event(
                session,
                campaign_id=act.campaign_id,
                unit_id=unit_id,
                nominee_id=nominee_id,
                event=act.event,
                actor_id=act.actor_id,
                actor_name=act.actor_name,
                at=act.at,
                detail=detail,
            )


async def council_members(session: AsyncSession, org_id: int) -> list[Member]:
    """The organisation's active members holding a council seat, by name."""
    rows = await session.scalars(
        select(Member)
        .join(Unit, Unit.id == Member.unit_id)
        .where(Unit.organization_id == org_id, Member.active.is_(True), Member.council_seat)
        .order_by(Member.full_name, Member.id)
    )
    return list(rows)


async def seat_members(session: AsyncSession, session_id: int) -> list[Member]:
    """The members on a session's roll who are still active (whom to invite or remind)."""
    rows = await session.scalars(
        select(Member)
        .join(CouncilSeat, CouncilSeat.member_id == Member.id)
        .where(CouncilSeat.session_id == session_id, Member.active.is_(True))
        .order_by(CouncilSeat.name, Member.id)
    )
    return list(rows)


async def approved_proposals(session: AsyncSession, campaign_id: int) -> list[Nominee]:
    """The campaign's proposals the office approved, in the awards' order, then by unit."""
    rows = await session.scalars(
        select(Nominee)
        .join(Award, Award.id == Nominee.award_id)
        .join(Unit, Unit.id == Nominee.unit_id)
        .where(Nominee.campaign_id == campaign_id, Nominee.review_state == ReviewState.APPROVED)
        .order_by(Award.position, Award.id, Unit.code, Nominee.name_key)
    )
    return list(rows)


async def latest_session(session: AsyncSession, campaign_id: int) -> CouncilSession | None:
    """The campaign's newest session, if any."""
    return await session.scalar(
        select(CouncilSession)
        .where(CouncilSession.campaign_id == campaign_id)
        .order_by(CouncilSession.id.desc())
        .limit(1)
    )


async def open_session(
    session: AsyncSession, campaign: Campaign, actor_id: int, actor_name: str, now: datetime
) -> tuple[Opened, int | None, int]:
    """Open a session on the campaign's approved proposals with the council as it is now: how
    it ended, the session (opened, or the one already there) and how many proposals it put. The
    campaign's row is locked first (PostgreSQL): two offices pressing at once open one."""
    await session.scalar(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())
    latest = await latest_session(session, campaign.id)
    if latest is not None and latest.state is not CouncilState.DECIDED:
        return Opened.ALREADY, latest.id, 0
    members = await council_members(session, campaign.organization_id)
    if not members:
        return Opened.NO_MEMBERS, None, 0
    nominees = await approved_proposals(session, campaign.id)
    if not nominees:
        return Opened.NO_PROPOSALS, None, 0
    opened = CouncilSession(
        campaign_id=campaign.id,
        state=CouncilState.OPEN,
        quorum=str(quorum_of(campaign.council_quorum)),
        opened_by=actor_id,
        opened_by_name=actor_name,
        opened_at=now,
    )
    session.add(opened)
    await session.flush()
    session.add_all(
        CouncilSeat(session_id=opened.id, member_id=m.id, name=m.full_name) for m in members
    )
    session.add_all(
        CouncilProposal(
            session_id=opened.id,
            nominee_id=n.id,
            unit_id=n.unit_id,
            award_id=n.award_id,
            name=n.name,
            position=i,
        )
        for i, n in enumerate(nominees)
    )
    await _record(
        session,
        Act(campaign.id, DossierEvent.VOTE_OPENED, actor_id, actor_name, now),
        [(n.unit_id, n.id, None) for n in nominees],
    )
    await session.flush()
    return Opened.OPENED, opened.id, len(nominees)


async def session_in_org(
    session: AsyncSession, session_id: int, org_id: int
) -> CouncilSession | None:
    """A session of one of the organisation's campaigns (None for any other id)."""
    return await session.scalar(
        select(CouncilSession)
        .join(Campaign, Campaign.id == CouncilSession.campaign_id)
        .where(CouncilSession.id == session_id, Campaign.organization_id == org_id)
    )


async def session_view(session: AsyncSession, held: CouncilSession) -> SessionView:
    """The session with its roll and, per award, its proposals and counts. The counts are read
    only once the session is closed: while it is open, nobody sees how the vote goes."""
    seen = await turnout(session, held.id)
    sealed = held.state is CouncilState.OPEN
    present = seen.present if held.present is None else held.present
    counts = await award_counts(session, held.id, present, seen.total, sealed=sealed)
    return SessionView(
        id=held.id,
        campaign_id=held.campaign_id,
        state=held.state,
        quorum=quorum_of(held.quorum),
        opened_at=held.opened_at,
        opened_by_name=held.opened_by_name,
        closed_at=held.closed_at,
        closed_by_name=held.closed_by_name,
        turnout=seen,
        awards=counts,
        result_id=held.result_id,
    )


async def close_session(
    session: AsyncSession,
    held: CouncilSession,
    actor_id: int | None,
    actor_name: str,
    now: datetime,
) -> Turnout | None:
    """Close an open session once its quorum is met (None); else the turnout, left open. The
    row is locked first, so that no vote lands between the count of those present and the close
    (storage.ballots.cast locks it for share)."""
    await session.scalar(
        select(CouncilSession.id).where(CouncilSession.id == held.id).with_for_update()
    )
    seen = await turnout(session, held.id)
    if not quorum_of(held.quorum).met(seen.present, seen.total):
        return seen
    closed = await session.execute(
        update(CouncilSession)
        .where(CouncilSession.id == held.id, CouncilSession.state == CouncilState.OPEN)
        .values(
            state=CouncilState.CLOSED,
            closed_at=now,
            closed_by_name=actor_name,
            present=seen.present,
        )
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return None  # closed meanwhile by someone else
    await session.refresh(held)
    counted = await award_counts(session, held.id, seen.present, seen.total, sealed=False)
    await _record(
        session,
        Act(held.campaign_id, DossierEvent.VOTE_CLOSED, actor_id, actor_name, now),
        [
            (
                p.unit_id,
                p.nominee_id,
                {"yes": p.yes, "no": p.no, "present": seen.present, "carried": p.carried},
            )
            for award in counted
            for p in award.proposals
        ],
    )
    return None


async def remind_waiting(session: AsyncSession, session_id: int) -> tuple[list[Member], int]:
    """The active members of the roll who have not voted on every proposal, each counted one
    reminder more, and the number of this reminder (for its outbox key)."""
    seen = await turnout(session, session_id)
    waiting = {s.member_id: s for s in seen.waiting}
    members = [m for m in await seat_members(session, session_id) if m.id in waiting]
    if members:
        await session.execute(
            update(CouncilSeat)
            .where(
                CouncilSeat.session_id == session_id,
                CouncilSeat.member_id.in_([m.id for m in members]),
            )
            .values(reminded=CouncilSeat.reminded + 1)
        )
    return members, max((s.reminded for s in waiting.values()), default=0) + 1


async def record_decision(
    session: AsyncSession,
    held: CouncilSession,
    view: SessionView,
    decision: str,
    decided_by: str | None,
    now: datetime,
    actor_id: int | None = None,
    actor_name: str = "",
) -> int | None:
    """The issued decision: the proposals carried within quota become the campaign's published
    results (the `results` push of PRODUCT §7, as a loaded results file). None if the session
    is not closed or has been decided meanwhile."""
    claimed = await session.execute(
        update(CouncilSession)
        .where(CouncilSession.id == held.id, CouncilSession.state == CouncilState.CLOSED)
        .values(state=CouncilState.DECIDED)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    items = [
        ResultItemSpec(p.unit_id, p.name, a.award_id)
        for a in view.awards
        for p in a.proposals
        if p.within_quota
    ]
    await upsert_result(session, held.campaign_id, decision, now, items, decided_by)
    result_id = await session.scalar(
        select(CouncilResult.id).where(
            CouncilResult.campaign_id == held.campaign_id, CouncilResult.decision == decision
        )
    )
    await session.execute(
        update(CouncilSession).where(CouncilSession.id == held.id).values(result_id=result_id)
    )
    await _record(
        session,
        Act(held.campaign_id, DossierEvent.RESULT_PUBLISHED, actor_id, actor_name, now),
        [
            (p.unit_id, p.nominee_id, {"decision": decision, "award": award.name})
            for award in view.awards
            for p in award.proposals
            if p.within_quota
        ],
    )
    return result_id

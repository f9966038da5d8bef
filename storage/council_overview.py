"""What the office's `/hoidong` screen reads: the campaigns a council can sit on, and for one
campaign its council, its approved proposals against the quotas, and its newest session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.council import SessionView, council_members, latest_session, session_view
from storage.council_rules import Share, VoteRule, quorum_of, vote_rule_of
from storage.models import (
    Award,
    Campaign,
    CouncilResult,
    CouncilSession,
    Nominee,
    ReviewState,
)

CAMPAIGNS_SHOWN = 10  # campaigns offered as buttons at most (the newest)


@dataclass(frozen=True, slots=True)
class AwardQuota:
    """An award with its approved proposals, its quota and the vote it needs."""

    name: str
    target: str
    approved: int
    quota: int | None
    rule: VoteRule


@dataclass(frozen=True, slots=True)
class Overview:
    """One campaign as the office's council screen shows it."""

    campaign: Campaign
    members: tuple[str, ...]
    quorum: Share
    awards: tuple[AwardQuota, ...]
    session: SessionView | None
    decision: str | None  # the published decision of a decided session


async def council_campaigns(session: AsyncSession, org_id: int) -> list[tuple[Campaign, int]]:
    """The organisation's campaigns with approved proposals or a session, newest first, each
    with its number of approved proposals."""
    approved = (
        select(Nominee.campaign_id, func.count().label("n"))
        .where(Nominee.review_state == ReviewState.APPROVED)
        .group_by(Nominee.campaign_id)
        .subquery()
    )
    held = select(CouncilSession.campaign_id)
    rows = await session.execute(
        select(Campaign, approved.c.n)
        .outerjoin(approved, approved.c.campaign_id == Campaign.id)
        .where(
            Campaign.organization_id == org_id,
            (approved.c.n > 0) | Campaign.id.in_(held),
        )
        .order_by(Campaign.start.desc(), Campaign.id.desc())
        .limit(CAMPAIGNS_SHOWN)
    )
    return [(c, n or 0) for c, n in rows]


async def campaign_in_org(session: AsyncSession, campaign_id: int, org_id: int) -> Campaign | None:
    """One of the organisation's campaigns (None for any other id)."""
    return await session.scalar(
        select(Campaign).where(Campaign.id == campaign_id, Campaign.organization_id == org_id)
    )


async def overview(session: AsyncSession, campaign: Campaign) -> Overview:
    """The campaign's council, approved proposals per award and newest session."""
    members = await council_members(session, campaign.organization_id)
    counts = dict(
        (
            await session.execute(
                select(Nominee.award_id, func.count())
                .where(
                    Nominee.campaign_id == campaign.id,
                    Nominee.review_state == ReviewState.APPROVED,
                )
                .group_by(Nominee.award_id)
            )
        ).all()
    )
    awards = await session.scalars(
        select(Award)
        .where(Award.campaign_id == campaign.id, Award.active.is_(True))
        .order_by(Award.position, Award.id)
    )
    latest = await latest_session(session, campaign.id)
    view = await session_view(session, latest) if latest is not None else None
    decision = None
    if latest is not None and latest.result_id is not None:
        decision = await session.scalar(
            select(CouncilResult.decision).where(CouncilResult.id == latest.result_id)
        )
    return Overview(
        campaign=campaign,
        members=tuple(m.full_name for m in members),
        quorum=quorum_of(campaign.council_quorum),
        awards=tuple(
            AwardQuota(
                a.name,
                str(a.target),
                counts.get(a.id, 0),
                a.quota,
                vote_rule_of(a.vote_threshold, a.vote_of),
            )
            for a in awards
        ),
        session=view,
        decision=decision,
    )

"""The council (PRODUCT §11): published results, earlier years, the session and its secret
ballot, and the eligibility rules."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UtcDateTime, _enum, utcnow
from storage.models.plans import (
    Target,
)


class CouncilResult(Base):
    """The council's decision for a campaign, published to units at publish_at."""

    __tablename__ = "council_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    publish_at: Mapped[datetime] = mapped_column(UtcDateTime)

    items: Mapped[list[ResultItem]] = relationship(
        order_by="ResultItem.position", cascade="all, delete-orphan"
    )

    # A campaign may have several decisions (the Sở's, then the UBND tỉnh's, …).
    __table_args__ = (
        UniqueConstraint("campaign_id", "decision", name="uq_council_results_decision"),
    )


class ResultItem(Base):
    """One award the council granted: to whom, of which unit."""

    __tablename__ = "result_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("council_results.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    nominee: Mapped[str] = mapped_column(String(200))
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_result_items_unit", "unit_id"),
        Index("ix_result_items_result_unit", "result_id", "unit_id"),
    )


class CouncilState(enum.StrEnum):
    """Where a council session stands."""

    OPEN = "open"  # ballots out, votes counted as they come
    CLOSED = "closed"  # counted; the papers can be drafted
    DECIDED = "decided"  # the decision's number and date recorded: results published


class CouncilSession(Base):
    """The council's secret ballot on a campaign's approved proposals (PRODUCT §11).

    Who voted (council_receipts) and how many voted which way (council_proposals.yes/no) are
    kept apart: no row ties a member to a choice."""

    __tablename__ = "council_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    state: Mapped[CouncilState] = mapped_column(_enum(CouncilState, "council_state"))
    quorum: Mapped[str] = mapped_column(String(20))  # as it was when the session opened
    opened_by: Mapped[int] = mapped_column(BigInteger)
    opened_by_name: Mapped[str] = mapped_column(String(300), default="")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_by_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    present: Mapped[int | None] = mapped_column(Integer, nullable=True)  # at closing
    result_id: Mapped[int | None] = mapped_column(
        ForeignKey("council_results.id", ondelete="SET NULL"), nullable=True
    )

    __table_args__ = (Index("ix_council_sessions_campaign", "campaign_id", "state"),)


class CouncilSeat(Base):
    """A member called to vote in a session (the roll, fixed when it opens)."""

    __tablename__ = "council_seats"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("council_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(300))
    reminded: Mapped[int] = mapped_column(Integer, default=0)


class CouncilProposal(Base):
    """A proposal put to the vote, with its counts: how many agreed, how many did not. The
    counts are one row per proposal, updated in place: no row per vote, nothing per voter."""

    __tablename__ = "council_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("council_sessions.id", ondelete="CASCADE"))
    nominee_id: Mapped[int | None] = mapped_column(
        ForeignKey("nominees.id", ondelete="SET NULL"), nullable=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_council_proposals_session", "session_id", "position"),)


class CouncilReceipt(Base):
    """That a member has voted on a proposal — never how (the counts are elsewhere, and this
    row has no time to line up with them)."""

    __tablename__ = "council_receipts"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("council_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("council_sessions.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_council_receipts_session_member", "session_id", "member_id"),)


class PastAward(Base):
    """A title or award of an earlier year, loaded from the office's own records (an Excel
    workbook), for the history (PRODUCT §11); published results are the history's other half."""

    __tablename__ = "past_awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    target: Mapped[Target] = mapped_column(_enum(Target, "past_award_target"))
    name: Mapped[str] = mapped_column(String(300))  # the person, or the collective
    name_key: Mapped[str] = mapped_column(String(300))  # storage.text.name_key(name)
    year: Mapped[int] = mapped_column(Integer)
    award: Mapped[str] = mapped_column(String(300))  # the title or award, as written
    decision: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    source: Mapped[str] = mapped_column(String(300))  # the workbook's file name and row
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("unit_id", "name_key", "year", "award"),
        Index("ix_past_awards_org_year", "organization_id", "year"),
    )


class PersonAlias(Base):
    """Two spellings of one person of a unit: `name_key` is read as `canonical_key`
    (`thiduabot people merge`)."""

    __tablename__ = "person_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    name_key: Mapped[str] = mapped_column(String(300))
    canonical_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("unit_id", "name_key"),)


class EligibilityRules(Base):
    """An organisation's eligibility rules (a loaded `rules` document, PRODUCT §11), kept as
    the document validated by storage.eligibility; a second load replaces them."""

    __tablename__ = "eligibility_rules"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(String(2000))
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300))  # the file it was loaded from
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)

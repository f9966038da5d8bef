"""Campaigns: their titles, awards, documents and steps, and the units' registrations."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UtcDateTime, _enum
from storage.models.plans import (
    CampaignKind,
    DocumentScope,
    DueForm,
    Target,
)


class Campaign(Base):
    """An emulation campaign, or one round of a long one."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    theme: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[CampaignKind] = mapped_column(_enum(CampaignKind, "campaign_kind"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    all_units: Mapped[bool] = mapped_column(Boolean, default=True)
    launch_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registration_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    dossier_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    reminders: Mapped[list[int]] = mapped_column(JSON, default=list)
    # The office's limit, in working days, from a complete dossier to its review.
    review_within_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The names the document gives its registration forms: {"tap_the": "Mẫu 2", …}.
    registration_forms: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The council's quorum for this campaign's session, e.g. "≥ 2/3" of its members
    # (storage.council_rules); None: the usual one.
    council_quorum: Mapped[str | None] = mapped_column(String(20), nullable=True)

    titles: Mapped[list[CampaignTitle]] = relationship(order_by="CampaignTitle.position")
    awards: Mapped[list[Award]] = relationship(order_by="Award.position")
    documents: Mapped[list[RequiredDocument]] = relationship(order_by="RequiredDocument.position")


class CampaignUnit(Base):
    """A unit taking part in a campaign that is not for all units."""

    __tablename__ = "campaign_units"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index("ix_campaign_units_unit", "unit_id"),)


class CampaignTitle(Base):
    """An emulation title a unit may register for in a campaign."""

    __tablename__ = "campaign_titles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    target: Mapped[Target] = mapped_column(_enum(Target, "title_target"))
    name: Mapped[str] = mapped_column(String(300))
    short: Mapped[str | None] = mapped_column(String(40), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("campaign_id", "target", "name", name="uq_campaign_titles_name"),
    )


class Award(Base):
    """An award form with the council's quota."""

    __tablename__ = "awards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    target: Mapped[Target] = mapped_column(_enum(Target, "award_target"))
    quota: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the whole campaign
    quota_per_unit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Per-unit exceptions, resolved at load: {"<unit id>": N} (a group gives each of its units N).
    quota_overrides: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # The award's own document list (codes), or None: every document of the campaign.
    document_codes: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(300), nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The council's vote this award needs, e.g. "≥ 90%" of its members or "> 50%" of those
    # who voted (storage.council_rules); None: the usual one.
    vote_threshold: Mapped[str | None] = mapped_column(String(20), nullable=True)
    vote_of: Mapped[str | None] = mapped_column(String(10), nullable=True)  # present | members

    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_awards_code"),)


class RequiredDocument(Base):
    """A document the campaign's dossier requires, per unit or per nominee."""

    __tablename__ = "required_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(500))
    per: Mapped[DocumentScope] = mapped_column(_enum(DocumentScope, "document_scope"))
    optional: Mapped[bool] = mapped_column(Boolean, default=False)  # nếu có
    formats: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # e.g. ["pdf"]
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)  # bản chính, …
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_required_documents_code"),)


class DeadlineWho(enum.StrEnum):
    """Who must meet a campaign deadline: the units, or the office itself."""

    UNITS = "units"
    OFFICE = "office"


class CampaignDeadline(Base):
    """A step of a campaign with its own date: a report, the office's summary, the council.

    Either a date (`due` with its form) or counted from another deadline or the launch
    (`after` with `days`, in working days or calendar days): resolved by the scheduler.
    """

    __tablename__ = "campaign_deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_form: Mapped[DueForm] = mapped_column(
        _enum(DueForm, "deadline_due_form"), default=DueForm.DAY
    )
    after: Mapped[str | None] = mapped_column(String(20), nullable=True)
    days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    working_days: Mapped[bool] = mapped_column(Boolean, default=False)
    who: Mapped[DeadlineWho] = mapped_column(_enum(DeadlineWho, "deadline_who"))
    all_units: Mapped[bool] = mapped_column(Boolean, default=True)  # the campaign's units
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    reminders: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)  # None: campaign's
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("campaign_id", "code", name="uq_campaign_deadlines_code"),)


class DeadlineProgress(Base):
    """A unit's mark that it has met a campaign deadline."""

    __tablename__ = "deadline_progress"

    deadline_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_deadlines.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    done_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_by: Mapped[int] = mapped_column(BigInteger)


class Registration(Base):
    """A unit's registration for a campaign: a collective title and individuals."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    # None: the unit registered no collective title (the "none" button of /dangky).
    collective_title_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_titles.id"), nullable=True
    )
    registered_by: Mapped[int] = mapped_column(BigInteger)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revision: Mapped[int] = mapped_column(Integer, default=1)

    individuals: Mapped[list[RegisteredIndividual]] = relationship(
        order_by="RegisteredIndividual.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("campaign_id", "unit_id", name="uq_registrations_unit"),)


class RegisteredIndividual(Base):
    """One person of a registration, with the title they register for."""

    __tablename__ = "registered_individuals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    full_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200))
    title_id: Mapped[int] = mapped_column(ForeignKey("campaign_titles.id"))

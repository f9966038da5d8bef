"""The tables: units, members, invites and what onboarding needs."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so Alembic migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with named constraints."""

    metadata = MetaData(naming_convention=NAMING)


class Role(enum.StrEnum):
    """What a member may do."""

    FOCAL = "focal"
    OFFICE = "office"
    LEADER = "leader"
    COUNCIL = "council"  # a member of the emulation and commendation council, and nothing else


class Channel(enum.StrEnum):
    """Where a message goes: the bot's own Telegram, or its Zalo bot (PRODUCT §12)."""

    TELEGRAM = "telegram"
    ZALO = "zalo"


class PushTo(enum.StrEnum):
    """Where a member chose to receive pushes."""

    TELEGRAM = "telegram"
    ZALO = "zalo"
    BOTH = "both"


class UnitKind(enum.StrEnum):
    """The kinds of unit a data file may name (PRODUCT §6.1)."""

    PHONG = "phong"
    DON_VI_SU_NGHIEP = "don_vi_su_nghiep"
    # District justice offices: gone with the district level on 1/7/2025, kept for older data.
    PHONG_TU_PHAP_HUYEN = "phong_tu_phap_huyen"
    SO_NGANH = "so_nganh"
    UBND_XA = "ubnd_xa"  # xã, phường, đặc khu
    CO_QUAN_DANG_DOAN_THE = "co_quan_dang_doan_the"
    DOANH_NGHIEP = "doanh_nghiep"
    LANH_DAO = "lanh_dao"  # the leadership: not a unit that reports
    HOI_DONG = "hoi_dong"  # a council: never reminded, never counted in progress
    KHAC = "khac"


# Kinds that are addressed as units but never report: no reminders, no progress of their own.
NON_REPORTING_KINDS = frozenset({UnitKind.LANH_DAO, UnitKind.HOI_DONG})


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Plain strings in the database (no native PostgreSQL enum to migrate later).
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=_values)


def _values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


class Organization(Base):
    """A body that runs its own emulation work: a department, a provincial or commune
    people's committee, a ministry, a trade union.

    Its words (office, head, short) are data: templates say "{{ office }}", "toàn {{ short }}".
    None means "not given": messages fill in the usual words for the body's name.
    """

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    office: Mapped[str | None] = mapped_column(String(200), nullable=True)
    head: Mapped[str | None] = mapped_column(String(200), nullable=True)
    short: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Unit(Base):
    """A unit of an organisation: a division, a public service unit, a commune, a council…"""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    # Kept with its history after a merger or dissolution, no longer a recipient from then on.
    retired: Mapped[date | None] = mapped_column(Date, nullable=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="unit")
    # Never loaded behind a query's back (a join on every unit read would cost the hot paths).
    organization: Mapped[Organization] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("organization_id", "code", name="uq_units_organization_code"),
    )


class UnitGroup(Base):
    """A named set of units of one organisation: an emulation cluster or bloc, or any list."""

    __tablename__ = "unit_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))

    __table_args__ = (
        UniqueConstraint("organization_id", "code", name="uq_unit_groups_organization_code"),
    )


class UnitGroupMember(Base):
    """A unit of a group."""

    __tablename__ = "unit_group_members"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("unit_groups.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class Member(Base):
    """A Telegram account bound to a unit with a role."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for a member on Zalo only (joined there with an invite code).
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True, nullable=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))
    full_name: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"), nullable=True)
    # The member's Zalo account, once linked (PRODUCT §12); left_at: it blocked the Zalo bot.
    zalo_user_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    zalo_chat_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    zalo_name: Mapped[str | None] = mapped_column(String(300), nullable=True)
    zalo_linked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    zalo_left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    push_to: Mapped[PushTo] = mapped_column(_enum(PushTo, "push_to"), default=PushTo.TELEGRAM)
    # A one-time code `/kenh` gives on Telegram, sent to the Zalo bot to link the account.
    link_code: Mapped[str | None] = mapped_column(String(16), unique=True, nullable=True)
    link_code_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A seat on the organisation's council (PRODUCT §11): every COUNCIL member has one, and a
    # leader or an office member given a council invite keeps their role and gains one.
    council_seat: Mapped[bool] = mapped_column(Boolean, default=False)

    unit: Mapped[Unit] = relationship(back_populates="members")

    __table_args__ = (Index("ix_members_unit_role_active", "unit_id", "role", "active"),)


class Invite(Base):
    """A one-time code that binds whoever sends `/start CODE` to a unit and role."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "invite_role"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    used_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    unit: Mapped[Unit] = relationship()


class CodeAttempt(Base):
    """A wrong `/start` code, kept in the database (seen by every instance) against guessing."""

    __tablename__ = "code_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (Index("ix_code_attempts_user_at", "telegram_user_id", "at"),)


class AppState(Base):
    """Small key-value facts the program learns at run time (e.g. the bot's username)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(1000))


class CampaignKind(enum.StrEnum):
    """Kinds of emulation campaign."""

    THUONG_XUYEN = "thuong_xuyen"
    THEO_DOT = "theo_dot"
    CHUYEN_DE = "chuyen_de"
    DAC_BIET = "dac_biet"


class Target(enum.StrEnum):
    """Whom a title or an award is for: a collective, an individual, a household, or either
    of the first two (ANY: the nominee says which)."""

    TAP_THE = "tap_the"
    CA_NHAN = "ca_nhan"
    HO_GIA_DINH = "ho_gia_dinh"
    ANY = "any"


class DocumentScope(enum.StrEnum):
    """Whether a required document is sent once per unit or once per nominee."""

    UNIT = "unit"
    NOMINEE = "nominee"


class DueForm(enum.StrEnum):
    """How a document writes a date: on a day, within a month, or before a day."""

    DAY = "day"  # chậm nhất ngày 10/12/2026: due that day
    MONTH = "month"  # "trong tháng 12/2026": due its last day
    BEFORE = "before"  # trước ngày 10/12/2026: due the day before


class Repeat(enum.StrEnum):
    """How often a recurring task comes back."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class Plan(Base):
    """An emulation and commendation plan of an organisation, identified by its code."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    code: Mapped[str] = mapped_column(String(40))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))

    __table_args__ = (
        UniqueConstraint("organization_id", "code", name="uq_plans_organization_code"),
        Index("ix_plans_year", "year"),
    )

    tasks: Mapped[list[PlanTask]] = relationship(back_populates="plan", order_by="PlanTask.no")


class PlanTask(Base):
    """One numbered task of a plan, due in a quarter, for some units (or all)."""

    __tablename__ = "plan_tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    no: Mapped[int] = mapped_column(Integer)
    # None for a recurring task (it comes back every period) and for one given only a due.
    quarter: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[str] = mapped_column(Text)
    # The last day it may be done (None: no date: listed, never reminded nor overdue).
    due: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_form: Mapped[DueForm] = mapped_column(_enum(DueForm, "due_form"), default=DueForm.DAY)
    repeat: Mapped[Repeat | None] = mapped_column(_enum(Repeat, "repeat"), nullable=True)
    repeat_day: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0: the last day
    repeat_month: Mapped[int | None] = mapped_column(Integer, nullable=True)  # within the period
    all_units: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    # A task dropped from a reloaded file is retired, not deleted: its progress stays.
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    plan: Mapped[Plan] = relationship(back_populates="tasks")

    __table_args__ = (
        UniqueConstraint("plan_id", "no", name="uq_plan_tasks_plan_no"),
        Index("ix_plan_tasks_plan_quarter", "plan_id", "quarter"),
    )


class TaskUnit(Base):
    """A unit named responsible for a task (besides tasks for ALL units)."""

    __tablename__ = "task_units"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("plan_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )


class TaskProgress(Base):
    """A unit's mark that it has done a task (of one period, for a recurring task)."""

    __tablename__ = "task_progress"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("plan_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), primary_key=True
    )
    # "" for a one-off task; the occurrence's due date (ISO) for a recurring one.
    period: Mapped[str] = mapped_column(String(10), primary_key=True, default="")
    done_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_by: Mapped[int] = mapped_column(BigInteger)


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


class ReviewState(enum.StrEnum):
    """Where the office's review of a nominee's dossier stands."""

    NONE = "none"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    APPROVED = "approved"


class Nominee(Base):
    """A collective or an individual a unit proposes for an award form of a campaign."""

    __tablename__ = "nominees"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    # The name as one name whatever its case and Unicode form (storage.text.name_key): the
    # unique index below refuses a second "ánh dương" beside "Ánh Dương" on every backend.
    name_key: Mapped[str] = mapped_column(String(200))
    target: Mapped[Target] = mapped_column(_enum(Target, "nominee_target"))
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    review_state: Mapped[ReviewState] = mapped_column(
        _enum(ReviewState, "review_state"), default=ReviewState.NONE
    )
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint(
            "campaign_id", "unit_id", "target", "name_key", name="uq_nominees_name_key"
        ),
        Index("ix_nominees_campaign_unit", "campaign_id", "unit_id"),
    )


class StoredFile(Base):
    """File content kept once under FILES_DIR, whatever its names and uploads."""

    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Upload(Base):
    """One version of a document a unit sent; the newest for a slot counts.

    A file sent outside any flow is kept at once with no campaign (not yet placed).
    """

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=True
    )
    nominee_id: Mapped[int | None] = mapped_column(
        ForeignKey("nominees.id", ondelete="CASCADE"), nullable=True
    )
    # None with a campaign: "other document", kept but not counted as a required one.
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("required_documents.id"), nullable=True
    )
    stored_file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    original_name: Mapped[str] = mapped_column(String(255))
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    uploaded_by: Mapped[int] = mapped_column(BigInteger)
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime)

    stored_file: Mapped[StoredFile] = relationship()

    __table_args__ = (
        Index("ix_uploads_slot", "campaign_id", "unit_id", "nominee_id", "document_id"),
        Index("ix_uploads_unit_unplaced", "unit_id", "campaign_id"),
    )


class DossierEvent(enum.StrEnum):
    """What changed in a dossier (the audit trail). Council members' votes are never events:
    the ballot is secret; opening and closing the vote are the office's acts."""

    PROPOSED = "proposed"  # the unit proposed the nominee
    UPLOADED = "uploaded"  # a document's first file
    REPLACED = "replaced"  # a new version of a document
    REVIEW_OPENED = "review_opened"  # the office opened it: "in review"
    REVIEW_APPROVED = "review_approved"
    REVIEW_RETURNED = "review_returned"
    VOTE_OPENED = "vote_opened"
    VOTE_CLOSED = "vote_closed"
    RESULT_PUBLISHED = "result_published"


class ReadHow(enum.StrEnum):
    """How someone was sent a dossier's file (the access log)."""

    VIEWED = "viewed"  # the file itself, re-sent when the office opens the dossier
    ZIP = "zip"  # inside the ZIP of a campaign's dossiers
    EXPORT = "export"  # inside another export


class DossierEventRow(Base):
    """One change to a dossier (an upload, a review, a vote opened or closed, a result), with
    who and when (PRODUCT §11, the audit trail); storage.audit writes and reads them.

    `actor_id` is the kind of id `Upload.uploaded_by` and `Nominee.reviewed_by` keep (None: a
    data file, no person); `actor_name` the person's name then, so it reads after they leave.
    A nominee None: a document of the unit's own, part of every one of its dossiers."""

    __tablename__ = "dossier_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    nominee_id: Mapped[int | None] = mapped_column(
        ForeignKey("nominees.id", ondelete="CASCADE"), nullable=True
    )
    event: Mapped[DossierEvent] = mapped_column(_enum(DossierEvent, "dossier_event"))
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A few plain values: the file's name, its version, the review's note, the decision…
    detail: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ix_dossier_events_nominee_at", "nominee_id", "at"),
        Index("ix_dossier_events_campaign_unit_at", "campaign_id", "unit_id", "at"),
    )


class FileRead(Base):
    """Someone was sent a stored file of a dossier (PRODUCT §11, the access log): one file
    re-sent in /duyet, the ZIP of a campaign (a row per file in it), an export."""

    __tablename__ = "file_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"))
    # The upload's place, copied so a dossier's reads are found as its events are.
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    nominee_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    how: Mapped[ReadHow] = mapped_column(_enum(ReadHow, "read_how"))
    reader_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reader_name: Mapped[str] = mapped_column(String(300), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_file_reads_campaign_unit_at", "campaign_id", "unit_id", "at"),
        Index("ix_file_reads_upload", "upload_id"),
    )


class OutboxStatus(enum.StrEnum):
    """Where one outgoing message stands."""

    PENDING = "pending"  # waiting for its time (not_before) and a worker
    SENDING = "sending"  # committed just before its request left
    SENT = "sent"  # Telegram answered with the message
    UNCERTAIN = "uncertain"  # written, no answer twice: maybe delivered, never retried again
    BLOCKED = "blocked"  # 403: the person blocked the bot
    FAILED = "failed"  # refused for good (400) or retried past the give-up time


class OutboxMessage(Base):
    """One message to one chat for one occurrence of a push; its key makes it unique."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(250), unique=True)
    push_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # The Telegram chat; on Zalo the member's id, the Zalo chat being `address`.
    chat_id: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), nullable=True
    )
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"), default=Channel.TELEGRAM)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    document_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[OutboxStatus] = mapped_column(
        _enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    not_before: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sending_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    timeouts: Mapped[int] = mapped_column(Integer, default=0)
    # Times the row was found "sending" after a crash and sent again (a possible duplicate).
    resent_after_crash: Mapped[int] = mapped_column(Integer, default=0)
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)

    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_channel_status_not_before", "channel", "status", "not_before"),
        Index("ix_outbox_push_key", "push_key"),
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


class Audience(enum.StrEnum):
    """Who an announcement goes to."""

    ALL = "all"
    UNITS = "units"
    MISSING = "missing"  # the units still missing something in a campaign


class Announcement(Base):
    """An office announcement: text or a document, to an audience, now or at a time."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    text: Mapped[str] = mapped_column(Text)
    document_file_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    document_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    audience: Mapped[Audience] = mapped_column(_enum(Audience, "audience"))
    unit_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"), nullable=True
    )
    send_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The office member to send the delivery report to once every message has an outcome.
    report_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index("ix_announcements_send_at", "send_at"),
        Index("ix_announcements_unreported", "reported_at"),
    )


class ProcessedUpdate(Base):
    """An update_id already taken by an instance (webhook mode): a redelivery is dropped."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ConversationState(Base):
    """Where one private chat stands in its multi-step conversations (/dangky, /nophoso,
    /thongbao, the note of /duyet) and their drafts. Kept in the database so that every
    instance behind the webhook, and the bot after a restart, carries on from the same step.
    A chat has a row only while one of its conversations is open."""

    __tablename__ = "conversation_states"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # Pickled {"states": {conversation name: state}, "user_data": {...}}: written and read
    # only by this program (bot.conversations), like PTB's own PicklePersistence.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SendBudget(Base):
    """The next free send slot, shared by every instance (PostgreSQL, section 8).

    Telegram's global limit counts the bot's messages, not one process's: each worker
    reserves its slots by moving `next_at` forward, so all instances together stay under it.
    One row (id 1), created on first use.
    """

    __tablename__ = "send_budget"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CalendarDay(Base):
    """A day whose working status a loaded `calendar` document sets (PRODUCT §7): a day off
    (a holiday or a swapped working day) or a working Saturday; it wins over the holidays
    package."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PendingDownload(Base):
    """A file whose download has begun and is not finished (PRODUCT §8): written in its own
    commit before the download, deleted once the file is kept or refused. A row left behind
    was cut off by a crash; after the restart its sender is told to send the file again."""

    __tablename__ = "pending_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)  # who sent it
    file_name: Mapped[str] = mapped_column(String(255))
    telegram_file_id: Mapped[str] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_pending_downloads_started_at", "started_at"),)

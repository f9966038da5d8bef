"""Bodies, their units and groups, members and invites: who is who."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UtcDateTime, _enum, utcnow


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


class Organization(Base):
    """A body that runs its own emulation work: a department, a provincial or commune
    people's committee, a ministry, a trade union.

    Its words (office, head, short) are data: templates name the office and the body with them.
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

"""The tables: units, members, invites and what onboarding needs."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
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


class UnitKind(enum.StrEnum):
    """The kinds of unit a data file may name."""

    PHONG = "phong"
    DON_VI_SU_NGHIEP = "don_vi_su_nghiep"
    PHONG_TU_PHAP_HUYEN = "phong_tu_phap_huyen"
    KHAC = "khac"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Plain strings in the database (no native PostgreSQL enum to migrate later).
    return Enum(cls, name=name, native_enum=False, length=32, values_callable=_values)


def _values(cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in cls]


class Unit(Base):
    """A unit of the department: a phong, a don vi su nghiep, a district office or a council."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[UnitKind] = mapped_column(_enum(UnitKind, "unit_kind"))
    organization: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="unit")


class Member(Base):
    """A Telegram account bound to a unit with a role."""

    __tablename__ = "members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))
    full_name: Mapped[str] = mapped_column(String(300), default="")
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id"), nullable=True)

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

"""Yearly plans and their tasks, with each unit's progress."""

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UtcDateTime, _enum


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

    DAY = "day"  # at the latest on 10/12/2026: due that day
    MONTH = "month"  # within the month 12/2026: due its last day
    BEFORE = "before"  # before 10/12/2026: due the day before


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

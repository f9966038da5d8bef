"""What goes out: the outbox, announcements and the shared send budget."""

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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime, _enum
from storage.models.people import (
    Channel,
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


class SendBudget(Base):
    """The next free send slot, shared by every instance (PostgreSQL, section 8).

    Telegram's global limit counts the bot's messages, not one process's: each worker
    reserves its slots by moving `next_at` forward, so all instances together stay under it.
    One row (id 1), created on first use.
    """

    __tablename__ = "send_budget"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_at: Mapped[datetime] = mapped_column(UtcDateTime)

"""What the running bot keeps: updates seen, conversations, the calendar and pending downloads."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UtcDateTime


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

"""Nominees and their dossiers: stored files, uploads, and the audit trail (PRODUCT §11)."""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, UtcDateTime, _enum
from storage.models.plans import (
    Target,
)


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

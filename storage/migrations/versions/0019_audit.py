"""Audit trail: every change to a dossier and who opened which file (PRODUCT §11)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENTS = (
    "proposed",
    "uploaded",
    "replaced",
    "review_opened",
    "review_approved",
    "review_returned",
    "vote_opened",
    "vote_closed",
    "result_published",
)


def upgrade() -> None:
    op.create_table(
        "dossier_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("nominee_id", sa.Integer(), nullable=True),
        sa.Column(
            "event",
            sa.Enum(*EVENTS, name="dossier_event", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=300), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_dossier_events_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_dossier_events_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominee_id"],
            ["nominees.id"],
            name=op.f("fk_dossier_events_nominee_id_nominees"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_events")),
    )
    op.create_index("ix_dossier_events_nominee_at", "dossier_events", ["nominee_id", "at"])
    op.create_index(
        "ix_dossier_events_campaign_unit_at", "dossier_events", ["campaign_id", "unit_id", "at"]
    )
    op.create_table(
        "file_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("upload_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("nominee_id", sa.Integer(), nullable=True),
        sa.Column(
            "how",
            sa.Enum("viewed", "zip", "export", name="read_how", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("reader_id", sa.BigInteger(), nullable=True),
        sa.Column("reader_name", sa.String(length=300), nullable=False),
        sa.Column("at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_file_reads_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_reads")),
    )
    op.create_index(
        "ix_file_reads_campaign_unit_at", "file_reads", ["campaign_id", "unit_id", "at"]
    )
    op.create_index("ix_file_reads_upload", "file_reads", ["upload_id"])


def downgrade() -> None:
    op.drop_index("ix_file_reads_upload", table_name="file_reads")
    op.drop_index("ix_file_reads_campaign_unit_at", table_name="file_reads")
    op.drop_table("file_reads")
    op.drop_index("ix_dossier_events_campaign_unit_at", table_name="dossier_events")
    op.drop_index("ix_dossier_events_nominee_at", table_name="dossier_events")
    op.drop_table("dossier_events")

"""pending_downloads: a file being downloaded, so that a crash mid-download is told to its sender

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("telegram_file_id", sa.String(length=255), nullable=False),
        sa.Column("started_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_downloads")),
    )
    op.create_index(
        "ix_pending_downloads_started_at", "pending_downloads", ["started_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_pending_downloads_started_at", table_name="pending_downloads")
    op.drop_table("pending_downloads")

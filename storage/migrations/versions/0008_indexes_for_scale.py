"""Indexes so that the tick and /hoso never read a growing table whole

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_campaign_units_unit", "campaign_units", ["unit_id"]),
    ("ix_result_items_result", "result_items", ["result_id"]),
    ("ix_announcements_send_at", "announcements", ["send_at"]),
    ("ix_announcements_unreported", "announcements", ["reported_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)

"""result_items: one index on (result_id, unit_id), which answers "which units does this
result name" from the index alone; SQLite otherwise walked the whole unit_id index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_result_items_result_unit", "result_items", ["result_id", "unit_id"])
    op.drop_index("ix_result_items_result", table_name="result_items")


def downgrade() -> None:
    op.create_index("ix_result_items_result", "result_items", ["result_id"])
    op.drop_index("ix_result_items_result_unit", table_name="result_items")

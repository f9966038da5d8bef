"""nominees.name_key: one name whatever its case and Unicode form, unique per unit and kind

SQLite's lower() folds only ASCII, so one Vietnamese name typed in two cases made two nominees
there. The key (storage.text.name_key) is computed here for every nominee; two existing
nominees that turn out to be one name keep their rows (the later one's key carries its id), so
nothing is lost and the office can merge them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.text import name_key

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("nominees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, campaign_id, unit_id, target, name FROM nominees ORDER BY id")
    ).all()
    seen: set[tuple[int, int, str, str]] = set()
    for nominee_id, campaign_id, unit_id, target, name in rows:
        key = name_key(name)
        if (campaign_id, unit_id, target, key) in seen:
            key = f"{key} #{nominee_id}"[:200]
        seen.add((campaign_id, unit_id, target, key))
        conn.execute(
            sa.text("UPDATE nominees SET name_key = :key WHERE id = :id"),
            {"key": key, "id": nominee_id},
        )
    with op.batch_alter_table("nominees", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_constraint("uq_nominees_name", type_="unique")
        batch_op.create_unique_constraint(
            "uq_nominees_name_key", ["campaign_id", "unit_id", "target", "name_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("nominees", schema=None) as batch_op:
        batch_op.drop_constraint("uq_nominees_name_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_nominees_name", ["campaign_id", "unit_id", "target", "name"]
        )
        batch_op.drop_column("name_key")

"""History: titles and awards of earlier years loaded from the office's records, and two
spellings of one person merged (PRODUCT §11)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "past_awards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column(
            "target",
            sa.Enum(
                "tap_the",
                "ca_nhan",
                "ho_gia_dinh",
                "any",
                name="past_award_target",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("award", sa.String(length=300), nullable=False),
        sa.Column("decision", sa.String(length=100), nullable=True),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_past_awards_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_past_awards_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_past_awards")),
        sa.UniqueConstraint(
            "unit_id",
            "name_key",
            "year",
            "award",
            name=op.f("uq_past_awards_unit_id"),
        ),
    )
    op.create_index("ix_past_awards_org_year", "past_awards", ["organization_id", "year"])
    op.create_table(
        "person_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("canonical_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_person_aliases_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_aliases")),
        sa.UniqueConstraint("unit_id", "name_key", name=op.f("uq_person_aliases_unit_id")),
    )


def downgrade() -> None:
    op.drop_table("person_aliases")
    op.drop_index("ix_past_awards_org_year", table_name="past_awards")
    op.drop_table("past_awards")

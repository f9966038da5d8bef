"""The council session: members' ballots, receipts apart from the counts (PRODUCT §11)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("council_seat", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("council_quorum", sa.String(length=20), nullable=True))
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vote_threshold", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("vote_of", sa.String(length=10), nullable=True))
    op.create_table(
        "council_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open", "closed", "decided", name="council_state", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("quorum", sa.String(length=20), nullable=False),
        sa.Column("opened_by", sa.BigInteger(), nullable=False),
        sa.Column("opened_by_name", sa.String(length=300), nullable=False),
        sa.Column("opened_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", storage.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_name", sa.String(length=300), nullable=True),
        sa.Column("present", sa.Integer(), nullable=True),
        sa.Column("result_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_council_sessions_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["council_results.id"],
            name=op.f("fk_council_sessions_result_id_council_results"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_sessions")),
    )
    op.create_index("ix_council_sessions_campaign", "council_sessions", ["campaign_id", "state"])
    op.create_table(
        "council_seats",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("reminded", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_council_seats_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_sessions.id"],
            name=op.f("fk_council_seats_session_id_council_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "member_id", name=op.f("pk_council_seats")),
    )
    op.create_table(
        "council_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("nominee_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["awards.id"],
            name=op.f("fk_council_proposals_award_id_awards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominee_id"],
            ["nominees.id"],
            name=op.f("fk_council_proposals_nominee_id_nominees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_sessions.id"],
            name=op.f("fk_council_proposals_session_id_council_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_council_proposals_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_proposals")),
    )
    op.create_index("ix_council_proposals_session", "council_proposals", ["session_id", "position"])
    op.create_table(
        "council_receipts",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_council_receipts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["council_proposals.id"],
            name=op.f("fk_council_receipts_proposal_id_council_proposals"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_sessions.id"],
            name=op.f("fk_council_receipts_session_id_council_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("proposal_id", "member_id", name=op.f("pk_council_receipts")),
    )
    op.create_index(
        "ix_council_receipts_session_member", "council_receipts", ["session_id", "member_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_council_receipts_session_member", table_name="council_receipts")
    op.drop_table("council_receipts")
    op.drop_index("ix_council_proposals_session", table_name="council_proposals")
    op.drop_table("council_proposals")
    op.drop_table("council_seats")
    op.drop_index("ix_council_sessions_campaign", table_name="council_sessions")
    op.drop_table("council_sessions")
    with op.batch_alter_table("awards", schema=None) as batch_op:
        batch_op.drop_column("vote_of")
        batch_op.drop_column("vote_threshold")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("council_quorum")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("council_seat")

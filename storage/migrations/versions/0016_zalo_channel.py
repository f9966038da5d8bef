"""Zalo as a second channel: a member's Zalo account and choice, the channel of each outbox row

A member may now be on Zalo only (no Telegram account), so its Telegram ids become optional.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PUSH_TO = sa.Enum("telegram", "zalo", "both", name="push_to", native_enum=False, length=32)
_CHANNEL = sa.Enum("telegram", "zalo", name="channel", native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.alter_column("telegram_user_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("zalo_user_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("zalo_chat_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("zalo_name", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("zalo_linked_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("zalo_left_at", storage.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("push_to", _PUSH_TO, nullable=False, server_default="telegram")
        )
        batch_op.add_column(sa.Column("link_code", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column(
                "link_code_expires_at", storage.models.UtcDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_unique_constraint(batch_op.f("uq_members_zalo_user_id"), ["zalo_user_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_members_link_code"), ["link_code"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", _CHANNEL, nullable=False, server_default="telegram")
        )
        batch_op.add_column(sa.Column("address", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_outbox_channel_status_not_before", ["channel", "status", "not_before"]
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_channel_status_not_before")
        batch_op.drop_column("address")
        batch_op.drop_column("channel")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_members_link_code"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_members_zalo_user_id"), type_="unique")
        for column in (
            "link_code_expires_at",
            "link_code",
            "push_to",
            "zalo_left_at",
            "zalo_linked_at",
            "zalo_name",
            "zalo_chat_id",
            "zalo_user_id",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("telegram_user_id", existing_type=sa.BigInteger(), nullable=False)

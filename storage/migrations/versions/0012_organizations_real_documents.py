"""organizations and what real documents need (PRODUCT §6.1), carrying existing data

Every unit, plan, campaign and announcement gets an organisation: one per distinct name the
units held. Plans are identified by (organisation, code), the code being the year they had.
When the database holds several organisations, whatever meant "every unit" (a campaign, a
task, an announcement) is written out as the explicit list it meant, so nothing changes
meaning; a later load says so if a file would now mean something else. Push keys that
named a plan by its year or a campaign's only decision are rewritten to name the plan and
the decision by id, so nothing already sent is sent again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00
"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models
from storage.organizations import code_from_name

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rewrite_keys(conn: sa.Connection, old: str, new: str) -> None:
    """Outbox rows whose push key starts with `old` get `new` instead (key and push_key)."""
    n = len(old)
    conn.execute(
        sa.text(
            "UPDATE outbox SET push_key = :new || substr(push_key, :cut), "
            "key = :new || substr(key, :cut) WHERE substr(push_key, 1, :n) = :old"
        ),
        {"new": new, "old": old, "n": n, "cut": n + 1},
    )


def _organizations(conn: sa.Connection) -> dict[str, int]:
    names = [r[0] or "" for r in conn.execute(sa.text("SELECT DISTINCT organization FROM units"))]
    ids: dict[str, int] = {}
    taken: set[str] = set()
    for name in sorted(names):
        code, n = code_from_name(name), 1
        while code in taken:
            n += 1
            code = f"{code_from_name(name)[:36]}-{n}"
        taken.add(code)
        conn.execute(
            sa.text("INSERT INTO organizations (code, name) VALUES (:code, :name)"),
            {"code": code, "name": name},
        )
        ids[name] = conn.execute(
            sa.text("SELECT id FROM organizations WHERE code = :code"), {"code": code}
        ).scalar_one()
    return ids


def _majority(conn: sa.Connection, sql: str, params: dict[str, object], first: int) -> int:
    counts = Counter(r[0] for r in conn.execute(sa.text(sql), params))
    return counts.most_common(1)[0][0] if counts else first


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("office", sa.String(length=200), nullable=True),
        sa.Column("head", sa.String(length=200), nullable=True),
        sa.Column("short", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("code", name=op.f("uq_organizations_code")),
    )
    conn = op.get_bind()
    org_of_name = _organizations(conn)
    first = min(org_of_name.values(), default=None)
    if first is None and any(
        conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
        for table in ("plans", "campaigns", "announcements")
    ):  # data without any unit: one organisation to hold it
        conn.execute(sa.text("INSERT INTO organizations (code, name) VALUES ('ORG', '')"))
        first = conn.execute(sa.text("SELECT id FROM organizations")).scalar_one()
    several = len(org_of_name) > 1

    # --- units: an organisation, unique codes within it, retirement and mergers ---
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("retired", sa.Date(), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
    for name, org_id in org_of_name.items():
        conn.execute(
            sa.text(
                "UPDATE units SET organization_id = :org WHERE COALESCE(organization, '') = :name"
            ),
            {"org": org_id, "name": name},
        )
    with op.batch_alter_table("units") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_units_code", type_="unique")
        batch.create_unique_constraint("uq_units_organization_code", ["organization_id", "code"])
        batch.create_foreign_key(
            "fk_units_organization_id_organizations", "organizations", ["organization_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_units_merged_into_id_units", "units", ["merged_into_id"], ["id"]
        )
        batch.drop_column("organization")

    op.create_table(
        "unit_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_unit_groups_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_groups")),
        sa.UniqueConstraint("organization_id", "code", name="uq_unit_groups_organization_code"),
    )
    op.create_table(
        "unit_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["unit_groups.id"],
            ondelete="CASCADE",
            name=op.f("fk_unit_group_members_group_id_unit_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            ondelete="CASCADE",
            name=op.f("fk_unit_group_members_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("group_id", "unit_id", name=op.f("pk_unit_group_members")),
    )

    # --- plans: (organisation, code), the code being the year ---
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("code", sa.String(length=40), nullable=True))
    plans = list(conn.execute(sa.text("SELECT id, year FROM plans")))
    for plan_id, year in plans:
        org = _majority(
            conn,
            "SELECT u.organization_id FROM task_units tu JOIN units u ON u.id = tu.unit_id "
            "JOIN plan_tasks t ON t.id = tu.task_id WHERE t.plan_id = :p",
            {"p": plan_id},
            first or 0,
        )
        conn.execute(
            sa.text("UPDATE plans SET organization_id = :org, code = :code WHERE id = :p"),
            {"org": org or None, "code": str(year), "p": plan_id},
        )
        # Push keys named the plan by its year; now by its id (two bodies may share a year).
        for quarter in range(1, 5):
            old = f"quarterly_tasks:{year}-Q{quarter}:"
            _rewrite_keys(conn, old, f"{old}{plan_id}:")
        for kind in ("reminder:task:", "overdue_digest:task:"):
            _rewrite_keys(conn, f"{kind}{year}:", f"{kind}{plan_id}:")
    with op.batch_alter_table("plans") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("code", existing_type=sa.String(length=40), nullable=False)
        batch.drop_constraint("uq_plans_year", type_="unique")
        batch.create_unique_constraint("uq_plans_organization_code", ["organization_id", "code"])
        batch.create_foreign_key(
            "fk_plans_organization_id_organizations", "organizations", ["organization_id"], ["id"]
        )
        batch.create_index("ix_plans_year", ["year"], unique=False)

    with op.batch_alter_table("plan_tasks") as batch:
        batch.alter_column("quarter", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("due", existing_type=sa.Date(), nullable=True)
        batch.add_column(
            sa.Column("due_form", sa.String(length=32), nullable=False, server_default="day")
        )
        batch.add_column(sa.Column("repeat", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("repeat_day", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("repeat_month", sa.Integer(), nullable=True))

    with op.batch_alter_table("task_progress") as batch:
        batch.add_column(
            sa.Column("period", sa.String(length=10), nullable=False, server_default="")
        )
        batch.drop_constraint("pk_task_progress", type_="primary")
        batch.create_primary_key("pk_task_progress", ["task_id", "unit_id", "period"])

    # --- campaigns: an organisation, the office's review limit, the forms' names ---
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("review_within_working_days", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("registration_forms", sa.JSON(), nullable=False, server_default="{}")
        )
    for (campaign_id,) in list(conn.execute(sa.text("SELECT id FROM campaigns"))):
        org = _majority(
            conn,
            "SELECT u.organization_id FROM units u WHERE u.id IN ("
            "SELECT unit_id FROM campaign_units WHERE campaign_id = :c "
            "UNION ALL SELECT unit_id FROM registrations WHERE campaign_id = :c "
            "UNION ALL SELECT unit_id FROM nominees WHERE campaign_id = :c)",
            {"c": campaign_id},
            first or 0,
        )
        conn.execute(
            sa.text("UPDATE campaigns SET organization_id = :org WHERE id = :c"),
            {"org": org or None, "c": campaign_id},
        )
    with op.batch_alter_table("campaigns") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_campaigns_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
        )

    with op.batch_alter_table("awards") as batch:
        batch.add_column(sa.Column("quota_per_unit", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("quota_overrides", sa.JSON(), nullable=False, server_default="{}")
        )
        batch.add_column(sa.Column("document_codes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(length=300), nullable=True))
    with op.batch_alter_table("required_documents") as batch:
        batch.add_column(
            sa.Column("optional", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("formats", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("note", sa.String(length=500), nullable=True))

    op.create_table(
        "campaign_deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("due_form", sa.String(length=32), nullable=False),
        sa.Column("after", sa.String(length=20), nullable=True),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("working_days", sa.Boolean(), nullable=False),
        sa.Column("who", sa.String(length=32), nullable=False),
        sa.Column("all_units", sa.Boolean(), nullable=False),
        sa.Column("unit_ids", sa.JSON(), nullable=False),
        sa.Column("reminders", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            ondelete="CASCADE",
            name=op.f("fk_campaign_deadlines_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_deadlines")),
        sa.UniqueConstraint("campaign_id", "code", name="uq_campaign_deadlines_code"),
    )
    op.create_table(
        "deadline_progress",
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("done_at", storage.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["campaign_deadlines.id"],
            ondelete="CASCADE",
            name=op.f("fk_deadline_progress_deadline_id_campaign_deadlines"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            ondelete="CASCADE",
            name=op.f("fk_deadline_progress_unit_id_units"),
        ),
        sa.PrimaryKeyConstraint("deadline_id", "unit_id", name=op.f("pk_deadline_progress")),
    )

    # --- results: several decisions per campaign ---
    with op.batch_alter_table("council_results") as batch:
        batch.add_column(sa.Column("decided_by", sa.String(length=300), nullable=True))
        batch.drop_constraint("uq_council_results_campaign_id", type_="unique")
        batch.create_unique_constraint("uq_council_results_decision", ["campaign_id", "decision"])
    results = conn.execute(
        sa.text(
            "SELECT r.id, c.code FROM council_results r JOIN campaigns c ON c.id = r.campaign_id"
        )
    )
    for result_id, campaign_code in list(results):
        _rewrite_keys(conn, f"results:{campaign_code}:", f"results:{campaign_code}:{result_id}:")

    # --- announcements: the office's organisation ---
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
    for (announcement_id,) in list(conn.execute(sa.text("SELECT id FROM announcements"))):
        org = _majority(
            conn,
            "SELECT u.organization_id FROM members m JOIN units u ON u.id = m.unit_id "
            "WHERE m.telegram_user_id = (SELECT created_by FROM announcements WHERE id = :a)",
            {"a": announcement_id},
            first or 0,
        )
        conn.execute(
            sa.text("UPDATE announcements SET organization_id = :org WHERE id = :a"),
            {"org": org or None, "a": announcement_id},
        )
    with op.batch_alter_table("announcements") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            "fk_announcements_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
        )

    if several:
        # "Every unit" meant every unit of every body; it now means the body's own. Write out
        # what it meant, so stored data keeps its meaning (a reload then says what changes).
        unit_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM units ORDER BY id"))]
        for (campaign_id,) in list(
            conn.execute(sa.text("SELECT id FROM campaigns WHERE all_units"))
        ):
            for unit_id in unit_ids:
                conn.execute(
                    sa.text("INSERT INTO campaign_units (campaign_id, unit_id) VALUES (:c, :u)"),
                    {"c": campaign_id, "u": unit_id},
                )
        conn.execute(sa.text("UPDATE campaigns SET all_units = :f WHERE all_units"), {"f": False})
        for (task_id,) in list(conn.execute(sa.text("SELECT id FROM plan_tasks WHERE all_units"))):
            conn.execute(sa.text("DELETE FROM task_units WHERE task_id = :t"), {"t": task_id})
            for unit_id in unit_ids:
                conn.execute(
                    sa.text("INSERT INTO task_units (task_id, unit_id) VALUES (:t, :u)"),
                    {"t": task_id, "u": unit_id},
                )
        conn.execute(sa.text("UPDATE plan_tasks SET all_units = :f WHERE all_units"), {"f": False})
        announcements = sa.table(
            "announcements", sa.column("audience"), sa.column("unit_ids", sa.JSON())
        )
        conn.execute(
            announcements.update()
            .where(announcements.c.audience == "all")
            .values(audience="units", unit_ids=unit_ids)
        )


def downgrade() -> None:
    raise NotImplementedError("0012 carries data forward only; restore a backup to go back")

"""dossier_versions: a counter per unit that every write to its uploads or nominees bumps, and
one (unit 0) that every write to required documents or awards bumps, kept by triggers

/hoso keeps a unit's dossier in memory and reuses it while these counters have not moved; the
database bumps them itself, in the writing transaction, so that every instance sees every
write whichever code made it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the unit the counter is kept for: a column of the row, or 0 for every unit)
_COUNTED = (
    ("uploads", "unit_id"),
    ("nominees", "unit_id"),
    ("required_documents", None),
    ("awards", None),
)
_OPERATIONS = ("insert", "update", "delete")


def _sqlite_bump(unit: str) -> str:
    return (
        f"INSERT OR IGNORE INTO dossier_versions (unit_id, version) VALUES ({unit}, 0); "
        f"UPDATE dossier_versions SET version = version + 1 WHERE unit_id = {unit};"
    )


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, column in _COUNTED:
        for operation in _OPERATIONS:
            rows = {"insert": ["NEW"], "update": ["OLD", "NEW"], "delete": ["OLD"]}[operation]
            units = [f"{row}.{column}" for row in rows] if column else ["0"]
            body = " ".join(_sqlite_bump(unit) for unit in units)
            statements.append(
                f"CREATE TRIGGER dossier_version_{table}_{operation} AFTER {operation.upper()} "
                f"ON {table} FOR EACH ROW BEGIN {body} END"
            )
    return statements


_PG_BUMP = """
    INSERT INTO dossier_versions (unit_id, version) VALUES ({unit}, 1)
    ON CONFLICT (unit_id) DO UPDATE SET version = dossier_versions.version + 1;"""

_PG_FUNCTIONS = [
    f"""CREATE FUNCTION bump_unit_dossier_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN {_PG_BUMP.format(unit="OLD.unit_id")}
    END IF;
    IF TG_OP <> 'DELETE' THEN {_PG_BUMP.format(unit="NEW.unit_id")}
    END IF;
    RETURN NULL;
END $$""",
    f"""CREATE FUNCTION bump_every_dossier_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN {_PG_BUMP.format(unit="0")}
    RETURN NULL;
END $$""",
]


def _pg_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER dossier_version_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        + (
            "FOR EACH ROW EXECUTE FUNCTION bump_unit_dossier_version()"
            if column
            else "FOR EACH STATEMENT EXECUTE FUNCTION bump_every_dossier_version()"
        )
        for table, column in _COUNTED
    ]


def upgrade() -> None:
    op.create_table(
        "dossier_versions",
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_dossier_versions")),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _sqlite_triggers() if sqlite else [*_PG_FUNCTIONS, *_pg_triggers()]:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, _column in _COUNTED:
            for operation in _OPERATIONS:
                op.execute(f"DROP TRIGGER dossier_version_{table}_{operation}")
    else:
        for table, _column in _COUNTED:
            op.execute(f"DROP TRIGGER dossier_version_{table} ON {table}")
        op.execute("DROP FUNCTION bump_unit_dossier_version()")
        op.execute("DROP FUNCTION bump_every_dossier_version()")
    op.drop_table("dossier_versions")

"""The migrations build exactly the schema the models declare (SQLite and PostgreSQL), so that
no table, column or index a model relies on is missing from a migrated database."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database
from storage.models import Base

# Kept by triggers, read with plain SQL (migration 0015), with no model of its own.
WITHOUT_MODEL = {"dossier_versions", "alembic_version"}


def _differences(connection: Connection) -> list[Any]:
    def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
        return not (kind == "table" and name in WITHOUT_MODEL)

    context = MigrationContext.configure(connection, opts={"include_object": include})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_database_is_the_models_schema(database_url: str) -> None:
    db = Database(database_url)
    await db.migrate()
    await db.dispose()
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []

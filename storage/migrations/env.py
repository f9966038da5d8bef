"""Alembic environment: runs on the connection that Database.migrate() hands over."""

from alembic import context

from storage.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=config.attributes.get("render_as_batch", False),
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

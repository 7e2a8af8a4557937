"""Alembic environment: migrations run on the connection bakekit hands over."""

from alembic import context

from bakekit.db.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - bakekit always passes its connection
    raise RuntimeError("bakekit migrations run through bakekit.open(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

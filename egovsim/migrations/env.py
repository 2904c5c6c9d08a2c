"""Alembic environment shared by every component.

egovsim runs migrations itself (``egovsim.storage.migrate``): it hands over an open
connection, the component's metadata and its own version table (``alembic_version_<component>``),
so each component owns and versions its tables independently of the others.
"""

from alembic import context

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=config.attributes["target_metadata"],
    version_table=config.attributes["version_table"],
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

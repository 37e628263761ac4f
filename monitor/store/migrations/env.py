"""Alembic environment: the engine comes from ``monitor.store.db.alembic_config``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from monitor.store.schema import metadata

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no engine nor sqlalchemy.url given to the migrations")
    engine = create_engine(url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()

"""The migrations build exactly the schema the tables describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from teamfoned.store.engine import create_engine
from teamfoned.store.migrate import current_revision, head_revision, upgrade
from teamfoned.store.tables import Base


async def test_migrations_apply_and_match_the_tables(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == head_revision() is not None
        await upgrade(engine)  # a second upgrade is a no-op

        def diff(connection):
            return compare_metadata(MigrationContext.configure(connection), Base.metadata)

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
    finally:
        await engine.dispose()

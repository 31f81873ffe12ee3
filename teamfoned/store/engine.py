"""Engines and sessions for the two supported databases: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.dml import UpdateBase

SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+psycopg")


class UnsupportedDatabase(ValueError):
    """The database URL names a driver teamfoned does not run on."""


def check_database_url(url: str) -> None:
    """Refuse URLs for drivers that cannot serve the asyncio engine."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # SQLAlchemy raises ArgumentError; the message is what matters
        raise UnsupportedDatabase(f"not a database URL: {exc}") from None
    if parsed.drivername not in SUPPORTED_DRIVERS:
        raise UnsupportedDatabase(
            f"driver {parsed.drivername!r} is not supported (use {' or '.join(SUPPORTED_DRIVERS)})"
        )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite leaves foreign keys off unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers (the HTTP module) run while the daemon writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    # Wait for a writer instead of failing at once with "database is locked".
    cursor.execute("PRAGMA busy_timeout=5000")
    # Erased personal data must not linger in free pages of the file (privacy promise).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`, configured for its database."""
    check_database_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Rows stay readable after commit; the repositories return plain values anyway.
    return async_sessionmaker(engine, expire_on_commit=False)


async def changed_rows(session: AsyncSession, stmt: UpdateBase) -> int:
    """Run an insert, update or delete in `session`; how many rows it touched."""
    result = await session.execute(stmt)
    # A DML statement always yields a cursor result; the session's signature only promises a Result.
    return cast(CursorResult[Any], result).rowcount

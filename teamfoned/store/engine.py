"""Engines and sessions for the two supported databases: SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any, cast

from sqlalchemy import CursorResult, event, literal, select
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


def _create_private(path: str | None) -> None:
    """Create a new SQLite file readable by its owner only: it holds personal data.

    SQLite gives its -wal and -shm files the database file's permissions, so they follow.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # an existing file keeps the permissions its sysadmin gave it
    except OSError:
        pass  # e.g. a missing directory: SQLite's own error on connect says it better


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`, configured for its database."""
    check_database_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        _create_private(parsed.database)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


async def ping(sessions: async_sessionmaker[AsyncSession]) -> None:
    """One round trip to the database; raises whatever the driver raises when it does not answer."""
    async with sessions() as session:
        await session.execute(select(literal(1)))


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Rows stay readable after commit; the repositories return plain values anyway.
    return async_sessionmaker(engine, expire_on_commit=False)


async def changed_rows(session: AsyncSession, stmt: UpdateBase) -> int:
    """Run an insert, update or delete in `session`; how many rows it touched."""
    result = await session.execute(stmt)
    # A DML statement always yields a cursor result; the session's signature only promises a Result.
    return cast(CursorResult[Any], result).rowcount

"""What every request handler shares, gathered in one small class: sessions, settings, clock, daemon status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.api.rate_limit import FailureLimiter
from teamfoned.api.token_cache import TokenCache
from teamfoned.api.token_uses import TokenUses
from teamfoned.config import Settings
from teamfoned.domain.phones import MemberPhone
from teamfoned.metrics import Metrics
from teamfoned.store.line_signals import LineSignals

Clock = Callable[[], datetime]


class DaemonStatus(Protocol):
    """What /readyz asks the routing daemon (read only)."""

    @property
    def ari_connected(self) -> bool: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiContext:
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: Clock = system_clock
    status: DaemonStatus | None = None
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    metrics: Metrics = field(default_factory=Metrics)
    # Valid tokens seen lately, and their uses waiting to be written (see Authenticate).
    tokens: TokenCache = field(default_factory=lambda: TokenCache(0))
    # The daemon's wake-ups for waiting callers, when the API runs inside the daemon.
    line_signals: LineSignals | None = None
    token_uses: TokenUses = field(init=False)

    def __post_init__(self) -> None:
        self.token_uses = TokenUses(self.sessions,
                                    interval_s=self.settings.http.last_used_flush_seconds)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction per request: committed when the handler returns, else rolled back.

        Committing here, inside the handler, means a failed commit is an error response,
        never a success the database did not keep.
        """
        async with self.sessions() as session, session.begin():
            yield session

    def member_available(self) -> None:
        """After a committed change that made a member available: callers waiting in a line
        look again (on PostgreSQL the change's own NOTIFY did it, from any process)."""
        if self.line_signals is not None:
            self.line_signals.member_available()

    def check_phone(self, raw: str) -> MemberPhone:
        """A member phone's shape under the installation's policy (never the trunk); whether a
        SIP endpoint is the tenant's is checked when the member is written."""
        return self.settings.telephony.phone_policy().check(raw)


def context(request: Request) -> ApiContext:
    api: ApiContext = request.app.state.api
    return api


def client_address(request: Request) -> str:
    # Behind a trusted proxy uvicorn has already put the forwarded address here.
    return request.client.host if request.client else "unknown"

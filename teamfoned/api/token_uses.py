"""Tokens' last use, gathered in memory and written in one statement every few seconds and on stop.

last_used_at helps breach handling ("was this token used after it leaked?"); it needs no
write per request. A failed flush keeps its uses for the next one.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.store import tokens_repo

log = structlog.get_logger(__name__)

# The default of http.last_used_flush_seconds.
FLUSH_INTERVAL_S = 5.0


class TokenUses:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 interval_s: float = FLUSH_INTERVAL_S) -> None:
        self.sessions = sessions
        self.interval_s = interval_s
        self._pending: dict[uuid.UUID, datetime] = {}
        # One flush at a time: the periodic one and the final one on stop never overlap.
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def used(self, token_id: uuid.UUID, now: datetime) -> None:
        last = self._pending.get(token_id)
        if last is None or last < now:
            self._pending[token_id] = now

    async def flush(self) -> None:
        async with self._lock:
            if not self._pending:
                return
            batch, self._pending = self._pending, {}
            try:
                async with self.sessions() as session, session.begin():
                    await tokens_repo.record_uses(session, batch)
            except BaseException:
                # Kept for the next flush; a newer use seen meanwhile wins.
                for token_id, at in batch.items():
                    self.used(token_id, at)
                raise

    async def run(self) -> None:
        """Flush every `interval_s` until cancelled (the final flush is the owner's)."""
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.flush()
            except Exception as exc:  # the database may be away; the uses wait for it
                log.warning("token_uses_flush_failed", error=str(exc), pending=self.pending)

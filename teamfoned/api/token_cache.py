"""Valid tokens remembered for a few seconds, so a request needs no database read to know its caller.

Only valid tokens are kept (a flood of bad ones cannot fill it), never longer than the
configured seconds nor past the token's own expiry. This process forgets a token the moment
it revokes it or changes or erases its member, and a lookup that read the database before
that moment never puts its (old) answer back; another process (the CLI, another worker,
another node) is seen within the cache's lifetime at most.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from teamfoned.store.tokens_repo import Caller, Grant

# Enough for every member of a large installation; past it the least recently used goes.
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class _Entry:
    caller: Caller
    expires_at: datetime | None
    # Monotonic seconds: a clock step (NTP, a test's fake clock) never stretches an entry's life.
    cached_at: float


class TokenCache:
    """Token hash -> caller, bounded in size and age; `ttl_s` 0 keeps nothing."""

    def __init__(self, ttl_s: float, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._monotonic = monotonic
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        # Moves at every forget: a lookup remembers it before its read, and an answer read
        # under an older one may predate the revocation or demotion, so it is not kept.
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str, now: datetime) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if (self._monotonic() - entry.cached_at >= self.ttl_s
                or (entry.expires_at is not None and entry.expires_at <= now)):
            del self._entries[digest]
            return None
        self._entries.move_to_end(digest)
        return entry.caller

    @property
    def generation(self) -> int:
        """Read before a lookup reads the database; hand it to `put` with what it read."""
        return self._generation

    def put(self, digest: str, grant: Grant, generation: int) -> None:
        """Keep what a lookup read, unless something was forgotten since it began (`generation`)."""
        if self.ttl_s <= 0 or generation != self._generation:
            return
        self._entries[digest] = _Entry(grant.caller, grant.expires_at, self._monotonic())
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget_token(self, token_id: uuid.UUID) -> None:
        self._forget(lambda c: c.token_id == token_id)

    def forget_member(self, member_id: uuid.UUID) -> None:
        """After the member's role changed or they were erased: their tokens are read afresh."""
        self._forget(lambda c: c.member_id == member_id)

    def _forget(self, matches: Callable[[Caller], bool]) -> None:
        self._generation += 1
        # A scan: revocations are rare, and a second index would have to be kept in step.
        for digest in [d for d, e in self._entries.items() if matches(e.caller)]:
            del self._entries[digest]

"""Failed authentications are counted per client address; past the limit the address waits (429)."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=1)
# Bounds memory under a flood from many addresses: the least recently failing are forgotten.
MAX_ADDRESSES = 10_000


class FailureLimiter:
    """A sliding one-minute window of failures per address; the clock is passed in."""

    def __init__(self, per_minute: int = 10) -> None:
        self.per_minute = per_minute
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, address: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(address)
        if times is None:
            return deque()
        while times and times[0] <= now - WINDOW:
            times.popleft()
        if not times:
            del self._failures[address]
        return times

    def retry_after(self, address: str, now: datetime) -> int | None:
        """Seconds the address must wait before trying again, or None if it may try now."""
        times = self._recent(address, now)
        if len(times) < self.per_minute:
            return None
        wait = (times[0] + WINDOW - now).total_seconds()
        return max(1, int(wait + 0.999))

    def failed(self, address: str, now: datetime) -> None:
        times = self._failures.setdefault(address, deque())
        self._failures.move_to_end(address)
        times.append(now)
        # Only the last `per_minute` failures matter for the window.
        while len(times) > self.per_minute:
            times.popleft()
        while len(self._failures) > MAX_ADDRESSES:
            self._failures.popitem(last=False)

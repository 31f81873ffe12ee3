"""How long a waiting caller can expect to wait, from the team's recent answered waits; contains no I/O whatsoever."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import timedelta

__all__ = ["MIN_SAMPLES", "SAMPLES", "WINDOW", "expected_wait_minutes"]

# The waits that count: callers answered from the team's line within this window, the most
# recent SAMPLES of them. Older waits say little about the line now (another hour, other staff).
WINDOW = timedelta(hours=1)
SAMPLES = 20
# Fewer answered waits than this: no promise at all, rather than one built on a call or two.
MIN_SAMPLES = 5


def expected_wait_minutes(waits: Sequence[float]) -> int | None:
    """The median of `waits` (seconds in line of answered callers) in whole minutes, rounded;
    0 means under half a minute ("less than a minute"). None with fewer than MIN_SAMPLES.

    The median, not the mean: one caller held for long while a member finished a call would
    otherwise make every later caller hear a wait nobody else had."""
    if len(waits) < MIN_SAMPLES:
        return None
    return int(statistics.median(waits) / 60 + 0.5)

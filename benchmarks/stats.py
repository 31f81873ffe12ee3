"""Percentiles and small helpers shared by the measurements."""

from __future__ import annotations

import math
import statistics


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float | None]:
    return {
        "n": len(values),
        "median": statistics.median(values) if values else None,
        "p95": pct(values, 95),
        "p99": pct(values, 99),
    }


def r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)

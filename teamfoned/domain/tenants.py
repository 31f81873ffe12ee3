"""The rules for tenants: a name, and how long their call history is kept; no I/O."""

from __future__ import annotations

from typing import Any

from teamfoned.domain.errors import Invalid

RETENTION_DAYS = (1, 3650)
DEFAULT_RETENTION_DAYS = 90


def check_retention(days: Any) -> int:
    low, high = RETENTION_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or not low <= days <= high:
        raise Invalid.value("retention_days", f"retention must be {low} to {high} days")
    return days

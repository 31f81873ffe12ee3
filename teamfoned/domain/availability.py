"""Why a member's availability is what it is: the one list of reasons; no I/O."""

from __future__ import annotations

from enum import StrEnum


class AvailabilityReason(StrEnum):
    """Who set the member's availability last."""

    MANUAL = "manual"  # the member, or an admin for them
    SCHEDULE = "schedule"  # their weekly schedule, at a boundary
    AUTO = "auto"  # made unavailable after unanswered calls in a row (a team setting)

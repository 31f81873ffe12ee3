"""The rules for members and memberships: names, phones under the installation's policy, priorities, tiers; no I/O."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from teamfoned.domain.errors import Invalid
from teamfoned.domain.phones import (
    DEFAULT_TRUNK_TEMPLATE,
    MemberPhone,
    PhoneKind,
    PhoneRejected,
    trunk_endpoints,
    validate_phone,
)
from teamfoned.routing.tiers import TIERS

NAME_MAX = 200
# Lower rings first.
PRIORITY_RANGE = (0, 10_000)


def check_member_name(name: Any) -> str:
    """A member's name as shown to their team: printable text, surrounding spaces dropped."""
    name = name.strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not 0 < len(name) <= NAME_MAX or any(ord(c) < 32 for c in name):
        raise Invalid([("name", f"must be 1 to {NAME_MAX} printable characters")])
    return name


def check_priority(priority: Any) -> int:
    low, high = PRIORITY_RANGE
    if not isinstance(priority, int) or isinstance(priority, bool) or not low <= priority <= high:
        raise Invalid([("priority", f"must be {low} to {high}")])
    return priority


def check_tier(tier: Any) -> int:
    """A member's tier in a team (routing.tiers): 1 is offered calls first."""
    if not isinstance(tier, int) or isinstance(tier, bool) or tier not in TIERS:
        raise Invalid([("tier", f"must be {TIERS[0]} to {TIERS[-1]} (got {tier!r})")])
    return tier


def check_membership(priority: Any, tier: Any | None) -> None:
    """A membership's priority and tier (None: not given), every refusal at once."""
    checks: list[tuple[Callable[[Any], int], Any]] = [(check_priority, priority)]
    if tier is not None:
        checks.append((check_tier, tier))
    found: list[tuple[str, str]] = []
    for check, value in checks:
        try:
            check(value)
        except Invalid as exc:
            found += exc.fields
    if found:
        raise Invalid(found)


def check_until(until: datetime | None, now: datetime) -> datetime | None:
    """The end of a member's availability: a moment with an offset, still to come."""
    if until is not None and until.tzinfo is None:
        raise Invalid([("until", "needs a timezone offset (RFC 3339, e.g. 2030-01-01T17:00:00+01:00)")])
    if until is not None and until <= now:
        raise Invalid([("until", "must be in the future")])
    return until


@dataclass(frozen=True)
class PhonePolicy:
    """Which member phones this installation dials (the configuration's telephony section)."""

    allowed_countries: Collection[str] = ("NL",)
    default_region: str | None = None
    # The trunk's endpoint is never a member's phone (telephony.trunk_dial_template).
    trunk_template: str = DEFAULT_TRUNK_TEMPLATE

    def check(self, raw: str) -> MemberPhone:
        """The phone's shape; a SIP endpoint must also be assigned to the member's tenant,
        which the store checks when it writes the member."""
        try:
            phone = validate_phone(raw, allowed_countries=self.allowed_countries,
                                   default_region=self.default_region)
            if (phone.kind == PhoneKind.SIP
                    and phone.phone.lower() in trunk_endpoints(self.trunk_template)):
                raise PhoneRejected(f"{phone.phone!r} is the trunk, never a member's phone")
        except PhoneRejected as exc:
            raise Invalid.value("phone", f"phone refused: {exc}") from None
        return phone

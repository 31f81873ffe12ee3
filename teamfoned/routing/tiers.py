"""Tiers (staged ring): which members a call is offered, by how long the caller has waited; contains no I/O whatsoever.

A member's tier in a team says when they join the hunt: tier 1 first. A call's current tier
starts at the lowest tier that still has an available member this call has not tried (so a
tier with nobody available, or nobody left to offer this caller, never holds the next one
back), and goes up one every `next_tier_after` seconds the caller has waited since the call
started. The call is offered the candidates of the current tier and every tier below it.
"""

from __future__ import annotations

from collections.abc import Iterable

from teamfoned.routing.model import Candidate

__all__ = ["FIRST_TIER", "LAST_TIER", "TIERS", "WIDENINGS", "current_tier", "offered"]

FIRST_TIER = 1
LAST_TIER = 3
# The one list of tiers a membership may have: the domain's check and the API's bounds use it.
TIERS: tuple[int, ...] = tuple(range(FIRST_TIER, LAST_TIER + 1))
# How many times a call's tier can go up by waiting: its tier timer runs at most this many rounds.
WIDENINGS = LAST_TIER - FIRST_TIER


def current_tier(first_tier: int, waited: float, next_tier_after: float | None) -> int:
    """The highest tier offered after `waited` seconds when `first_tier` is where the call
    starts; with no `next_tier_after` the tiers never widen by time."""
    if not next_tier_after or waited <= 0:
        return first_tier
    return first_tier + int(waited // next_tier_after)


def offered(candidates: Iterable[Candidate], *, first_available: int | None, waited: float,
            next_tier_after: float | None) -> list[Candidate]:
    """The candidates this call may ring now, in their given order.

    `first_available`: the lowest tier among the team's available members this call has not
    tried, free or busy (None: unknown, or nobody). Where the store could not say, the free
    candidates' own lowest tier stands in for it, so a call never waits for a tier it cannot
    see; a member who became available between the two reads counts too.
    """
    pool = list(candidates)
    lowest = min((c.tier for c in pool), default=None)
    known = [tier for tier in (first_available, lowest) if tier is not None]
    if not known:
        return pool
    tier = current_tier(min(known), waited, next_tier_after)
    return [c for c in pool if c.tier <= tier]

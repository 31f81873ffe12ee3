"""The six routing strategies, each a sort key over the candidates; contains no I/O whatsoever.

As in Asterisk's app_queue, a strategy ranks members and the lowest rank rings first. Unlike
app_queue, nothing here reads a clock or a random source or writes hidden state: the random
source and the round-robin position come in, and the new position goes out in the Wave.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from teamfoned.routing.model import Candidate

__all__ = ["STRATEGIES", "Strategy", "UnknownStrategy", "Wave", "next_wave", "validate_strategy"]


class Strategy(StrEnum):
    """The one list of strategies: config, API, CLI and docs derive theirs from it."""

    RING_ALL = "ring_all"
    LINEAR = "linear"
    ROUND_ROBIN = "round_robin"
    LONGEST_IDLE = "longest_idle"
    FEWEST_CALLS = "fewest_calls"
    RANDOM = "random"


STRATEGIES: tuple[str, ...] = tuple(s.value for s in Strategy)


class UnknownStrategy(ValueError):
    """A strategy name that is not one of STRATEGIES; there is never a silent default."""

    def __init__(self, name: object) -> None:
        super().__init__(
            f"unknown routing strategy {name!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
        self.name = name


def validate_strategy(name: str) -> str:
    """Return `name` if it is a known strategy, else raise UnknownStrategy."""
    if name not in STRATEGIES:
        raise UnknownStrategy(name)
    return name


@dataclass(frozen=True, slots=True)
class Wave:
    """The members to ring together next, and the round-robin position after picking them."""

    members: tuple[Candidate, ...]
    rr_position: int | None


SortKey = Callable[[Candidate], Any]


def _tie(candidate: Candidate) -> tuple[int, uuid.UUID]:
    # The stable tie-break every strategy ends with, so equal inputs always give equal waves.
    return (candidate.priority, candidate.member_id)


def _longest_idle_key(candidate: Candidate) -> tuple[Any, ...]:
    # A member who never answered a call has been idle longest of all.
    if candidate.idle_since is None:
        return (0, _tie(candidate))
    return (1, candidate.idle_since, _tie(candidate))


def _fewest_calls_key(candidate: Candidate) -> tuple[Any, ...]:
    return (candidate.calls_taken, _tie(candidate))


def _round_robin_key(rr_position: int | None) -> SortKey:
    def key(candidate: Candidate) -> tuple[Any, ...]:
        # Members after the last one picked come first, then the wrap-around to the start.
        wrapped = rr_position is not None and candidate.priority <= rr_position
        return (wrapped, _tie(candidate))

    return key


def _random_key(candidates: list[Candidate], rng: random.Random) -> SortKey:
    # Draw in tie-break order, not input order, so a seeded rng gives the same pick for the
    # same set of candidates however the store happened to order them.
    draws = {c.member_id: rng.random() for c in sorted(candidates, key=_tie)}
    return lambda candidate: (draws[candidate.member_id], _tie(candidate))


def next_wave(
    strategy: str,
    candidates: Iterable[Candidate],
    *,
    rr_position: int | None,
    rng: random.Random,
) -> Wave:
    """Pick who rings next: every candidate for `ring_all`, else the single best-ranked one.

    `round_robin` returns the priority of the member it picked as the new position; the other
    strategies return `rr_position` unchanged. No candidates: an empty wave.
    """
    validate_strategy(strategy)
    pool = list(candidates)
    if not pool:
        return Wave(members=(), rr_position=rr_position)
    key: SortKey
    match strategy:
        case Strategy.RING_ALL:
            return Wave(members=tuple(sorted(pool, key=_tie)), rr_position=rr_position)
        case Strategy.LINEAR:
            key = _tie
        case Strategy.ROUND_ROBIN:
            chosen = min(pool, key=_round_robin_key(rr_position))
            return Wave(members=(chosen,), rr_position=chosen.priority)
        case Strategy.LONGEST_IDLE:
            key = _longest_idle_key
        case Strategy.FEWEST_CALLS:
            key = _fewest_calls_key
        case Strategy.RANDOM:
            key = _random_key(pool, rng)
        case _:  # pragma: no cover - validate_strategy has already refused it
            raise UnknownStrategy(strategy)
    return Wave(members=(min(pool, key=key),), rr_position=rr_position)

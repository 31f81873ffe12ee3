"""The strategies over plain candidate values: examples for each rule, then properties."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teamfoned.routing import (
    STRATEGIES,
    Candidate,
    UnknownStrategy,
    Wave,
    next_wave,
    validate_strategy,
)

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def member(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def cand(
    n: int,
    priority: int | None = None,
    *,
    idle_since: datetime | None = None,
    calls_taken: int = 0,
) -> Candidate:
    return Candidate(
        member(n), n if priority is None else priority, idle_since, calls_taken
    )


def pick(
    strategy: str, candidates: list[Candidate], rr_position: int | None = None
) -> Wave:
    return next_wave(
        strategy, candidates, rr_position=rr_position, rng=random.Random(7)
    )


def ids(wave: Wave) -> list[int]:
    return [c.member_id.int for c in wave.members]


# -- names ---------------------------------------------------------------------------------


def test_strategy_names() -> None:
    assert STRATEGIES == (
        "ring_all",
        "linear",
        "round_robin",
        "longest_idle",
        "fewest_calls",
        "random",
    )
    for name in STRATEGIES:
        assert validate_strategy(name) == name


@pytest.mark.parametrize("name", ["", "ringall", "Linear", "leastrecent", "rrmemory"])
def test_unknown_strategy_is_a_value_error_listing_valid_names(name: str) -> None:
    with pytest.raises(UnknownStrategy) as excinfo:
        validate_strategy(name)
    assert isinstance(excinfo.value, ValueError)
    message = str(excinfo.value)
    assert repr(name) in message
    assert all(valid in message for valid in STRATEGIES)


def test_next_wave_refuses_unknown_strategy_even_without_candidates() -> None:
    with pytest.raises(UnknownStrategy):
        pick("nope", [])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_no_candidates_give_an_empty_wave(strategy: str) -> None:
    assert pick(strategy, [], rr_position=3) == Wave(members=(), rr_position=3)


# -- each strategy -------------------------------------------------------------------------


def test_ring_all_rings_everyone_in_priority_order() -> None:
    wave = pick("ring_all", [cand(3), cand(1), cand(2)], rr_position=5)
    assert ids(wave) == [1, 2, 3]
    assert wave.rr_position == 5


def test_linear_picks_lowest_priority() -> None:
    wave = pick("linear", [cand(1, 30), cand(2, 10), cand(3, 20)])
    assert ids(wave) == [2]
    assert wave.rr_position is None


def test_linear_tie_breaks_on_member_id() -> None:
    assert ids(pick("linear", [cand(9, 1), cand(4, 1), cand(6, 1)])) == [4]


def test_round_robin_without_position_starts_at_lowest_priority() -> None:
    wave = pick(
        "round_robin", [cand(1, 30), cand(2, 10), cand(3, 20)], rr_position=None
    )
    assert ids(wave) == [2]
    assert wave.rr_position == 10


def test_round_robin_starts_after_the_last_pick() -> None:
    wave = pick("round_robin", [cand(1, 30), cand(2, 10), cand(3, 20)], rr_position=10)
    assert ids(wave) == [3]
    assert wave.rr_position == 20


def test_round_robin_skips_missing_priorities() -> None:
    # The member at 20 is busy (not a candidate): the next one after 10 is 30.
    wave = pick("round_robin", [cand(1, 30), cand(2, 10)], rr_position=10)
    assert ids(wave) == [1]
    assert wave.rr_position == 30


def test_round_robin_wraps_around() -> None:
    wave = pick("round_robin", [cand(1, 30), cand(2, 10), cand(3, 20)], rr_position=30)
    assert ids(wave) == [2]
    assert wave.rr_position == 10


def test_round_robin_position_beyond_everyone_wraps() -> None:
    assert (
        pick("round_robin", [cand(1, 5), cand(2, 6)], rr_position=99).rr_position == 5
    )


def test_longest_idle_prefers_never_called_then_oldest() -> None:
    candidates = [
        cand(1, idle_since=T0 + timedelta(minutes=5)),
        cand(2, idle_since=T0),
        cand(3, idle_since=None),
    ]
    assert ids(pick("longest_idle", candidates)) == [3]
    assert ids(pick("longest_idle", candidates[:2])) == [2]


def test_longest_idle_tie_breaks_on_priority() -> None:
    candidates = [cand(1, 5, idle_since=T0), cand(2, 3, idle_since=T0)]
    assert ids(pick("longest_idle", candidates)) == [2]
    assert ids(pick("longest_idle", [cand(1, 5), cand(2, 3)])) == [2]


def test_fewest_calls_picks_fewest_then_priority() -> None:
    candidates = [
        cand(1, calls_taken=4),
        cand(2, calls_taken=1),
        cand(3, calls_taken=1),
    ]
    assert ids(pick("fewest_calls", candidates)) == [2]


def test_random_uses_the_passed_rng() -> None:
    candidates = [cand(n) for n in range(1, 6)]
    picks = {
        ids(next_wave("random", candidates, rr_position=4, rng=random.Random(seed)))[0]
        for seed in range(50)
    }
    assert picks == {1, 2, 3, 4, 5}  # every member gets a turn over many seeds
    wave = next_wave("random", candidates, rr_position=4, rng=random.Random(1))
    assert wave.rr_position == 4


def test_random_is_independent_of_input_order_for_a_seeded_rng() -> None:
    candidates = [cand(n) for n in range(1, 9)]
    forward = next_wave("random", candidates, rr_position=None, rng=random.Random(42))
    backward = next_wave(
        "random", candidates[::-1], rr_position=None, rng=random.Random(42)
    )
    assert forward == backward


# -- properties ----------------------------------------------------------------------------

datetimes = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=10_000).map(lambda s: T0 + timedelta(seconds=s)),
)


@st.composite
def candidate_lists(
    draw: st.DrawFn, *, distinct_priorities: bool = False
) -> list[Candidate]:
    numbers = draw(st.lists(st.integers(1, 10_000), unique=True, max_size=8))
    priority = st.integers(0, 20)
    priorities = (
        draw(
            st.lists(
                priority, unique=True, min_size=len(numbers), max_size=len(numbers)
            )
        )
        if distinct_priorities
        else [draw(priority) for _ in numbers]
    )
    return [
        Candidate(member(n), p, draw(datetimes), draw(st.integers(0, 5)))
        for n, p in zip(numbers, priorities, strict=True)
    ]


positions = st.one_of(st.none(), st.integers(-1, 21))


@settings(max_examples=150, deadline=None)
@given(
    strategy=st.sampled_from(STRATEGIES),
    candidates=candidate_lists(),
    rr_position=positions,
    seed=st.integers(0, 2**32),
)
def test_wave_is_a_subset_of_the_candidates_without_repeats(
    strategy: str, candidates: list[Candidate], rr_position: int | None, seed: int
) -> None:
    wave = next_wave(
        strategy, candidates, rr_position=rr_position, rng=random.Random(seed)
    )
    assert len(set(wave.members)) == len(wave.members)
    assert set(wave.members) <= set(candidates)
    if strategy == "ring_all":
        assert sorted(wave.members, key=id) == sorted(candidates, key=id)
    else:
        assert len(wave.members) == (1 if candidates else 0)
    if strategy != "round_robin" or not candidates:
        assert wave.rr_position == rr_position
    else:
        assert wave.rr_position == wave.members[0].priority


@settings(max_examples=150, deadline=None)
@given(
    strategy=st.sampled_from(STRATEGIES),
    candidates=candidate_lists(),
    rr_position=positions,
    seed=st.integers(0, 2**32),
    shuffle_seed=st.integers(0, 2**32),
)
def test_wave_is_deterministic_for_equal_inputs(
    strategy: str,
    candidates: list[Candidate],
    rr_position: int | None,
    seed: int,
    shuffle_seed: int,
) -> None:
    # Equal inputs, even in another order, give equal waves: every key ends in a tie-break.
    shuffled = list(candidates)
    random.Random(shuffle_seed).shuffle(shuffled)
    first = next_wave(
        strategy, candidates, rr_position=rr_position, rng=random.Random(seed)
    )
    second = next_wave(
        strategy, shuffled, rr_position=rr_position, rng=random.Random(seed)
    )
    assert first == second


@settings(max_examples=150, deadline=None)
@given(candidates=candidate_lists(distinct_priorities=True), rr_position=positions)
def test_round_robin_visits_every_member_once_in_n_calls(
    candidates: list[Candidate], rr_position: int | None
) -> None:
    visited: list[Candidate] = []
    position = rr_position
    for _ in candidates:
        wave = next_wave(
            "round_robin", candidates, rr_position=position, rng=random.Random(0)
        )
        visited.extend(wave.members)
        position = wave.rr_position
    assert sorted(visited, key=id) == sorted(candidates, key=id)

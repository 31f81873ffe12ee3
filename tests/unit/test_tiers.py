"""Tiers (staged ring): the rule of who is offered a call by tier, and the call machine's tier timer."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.routing import (
    MAX_WAIT_TIMER,
    TIER_TIMER,
    CallerEntered,
    CallMachine,
    CancelTimer,
    Candidate,
    CandidatesFetched,
    Dial,
    FetchCandidates,
    JoinLine,
    LegAnswered,
    LegEnded,
    LineMoved,
    LineView,
    RingTimeout,
    StartRinging,
    StartTimer,
    TeamPolicy,
    TierDue,
    current_tier,
    offered,
    ring_timer,
    timer_fired,
)

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cand(member_id: uuid.UUID, tier: int) -> Candidate:
    return Candidate(member_id, member_id.int, None, 0, tier=tier)


# -- the rule ------------------------------------------------------------------------------

def test_the_current_tier_goes_up_one_every_next_tier_after_seconds() -> None:
    assert [current_tier(1, waited, 10) for waited in (0, 9.9, 10, 19.9, 20, 35)] == [1, 1, 2, 2, 3, 4]
    assert current_tier(2, 10, 10) == 3  # counted from where the call started
    assert current_tier(1, 500, None) == 1  # no next_tier_after: time never widens it


def test_only_the_current_tiers_are_offered_in_the_given_order() -> None:
    pool = [cand(A, 1), cand(B, 2), cand(C, 3)]
    assert offered(pool, first_available=1, waited=0, next_tier_after=10) == [cand(A, 1)]
    assert offered(pool, first_available=1, waited=10, next_tier_after=10) == [cand(A, 1), cand(B, 2)]
    assert offered(pool, first_available=1, waited=20, next_tier_after=10) == pool
    assert offered(pool, first_available=1, waited=500, next_tier_after=None) == [cand(A, 1)]


def test_a_tier_with_nobody_available_is_skipped_at_once() -> None:
    # Tier 1's members are all unavailable (or all tried in this call): tier 2 from the start.
    pool = [cand(B, 2), cand(C, 3)]
    assert offered(pool, first_available=2, waited=0, next_tier_after=60) == [cand(B, 2)]
    assert offered(pool, first_available=2, waited=0, next_tier_after=None) == [cand(B, 2)]


def test_a_busy_first_tier_holds_the_next_one_back_until_the_wait() -> None:
    # Tier 1's member is available but on another call: not a candidate, yet still there.
    pool = [cand(B, 2)]
    assert offered(pool, first_available=1, waited=5, next_tier_after=10) == []
    assert offered(pool, first_available=1, waited=10, next_tier_after=10) == [cand(B, 2)]
    assert offered(pool, first_available=1, waited=500, next_tier_after=None) == []


def test_without_the_line_the_free_candidates_say_where_the_call_starts() -> None:
    # The line could not be read (or there is none): the lowest free tier is offered.
    assert offered([cand(B, 2), cand(C, 3)], first_available=None, waited=0,
                   next_tier_after=10) == [cand(B, 2)]
    assert offered([], first_available=None, waited=0, next_tier_after=10) == []
    # A member who became available between the two reads counts too.
    assert offered([cand(A, 1), cand(B, 2)], first_available=2, waited=0,
                   next_tier_after=10) == [cand(A, 1)]


# -- the call machine ----------------------------------------------------------------------

def entered(*, strategy: str = "linear", next_tier_after: float | None = 10) -> tuple[CallMachine, list]:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=0,
                        next_tier_after=next_tier_after)
    m = CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)
    return m, m.handle(CallerEntered(now=at(0)))


def test_the_tier_timer_starts_with_the_call_only_when_the_team_widens_by_time() -> None:
    _, actions = entered()
    assert actions == [StartRinging(), StartTimer(MAX_WAIT_TIMER, 120), StartTimer(TIER_TIMER, 10),
                       FetchCandidates(exclude=frozenset())]
    _, actions = entered(next_tier_after=None)
    assert StartTimer(TIER_TIMER, 10) not in actions and TIER_TIMER not in {
        a.name for a in actions if isinstance(a, StartTimer)}
    assert isinstance(timer_fired(TIER_TIMER, now=at(10)), TierDue)


def test_tier_two_rings_only_after_the_wait_while_tier_one_is_busy() -> None:
    m, _ = entered()
    # A (tier 1) is on another call: not a candidate, but available. B (tier 2) is free.
    assert m.handle(CandidatesFetched((cand(B, 2),), LineView(available=2, first_tier=1),
                                      now=at(1))) == [JoinLine(at(0))]
    assert m.waiting
    # The tier widens: the waiting caller is offered tier 2 at that moment, not at a line signal.
    assert m.handle(TierDue(now=at(10))) == [StartTimer(TIER_TIMER, 10),
                                             FetchCandidates(exclude=frozenset())]
    actions = m.handle(CandidatesFetched((cand(B, 2),), LineView(available=2, first_tier=1),
                                         now=at(10)))
    assert actions == [Dial(B, 20), StartTimer(ring_timer(B), 20)]


def test_tier_one_unavailable_tier_two_rings_at_once() -> None:
    m, _ = entered(next_tier_after=60)
    actions = m.handle(CandidatesFetched((cand(B, 2),), LineView(available=1, first_tier=2),
                                         now=at(1)))
    assert actions == [Dial(B, 20), StartTimer(ring_timer(B), 20)]


def test_tier_one_rang_out_leaves_nobody_of_it_for_this_caller_tier_two_rings_next() -> None:
    m, _ = entered(next_tier_after=60)
    m.handle(CandidatesFetched((cand(A, 1), cand(B, 2)), LineView(available=2, first_tier=1),
                               now=at(1)))
    assert A in m.tried and B not in m.tried
    actions = m.handle(RingTimeout(A, now=at(21)))
    assert actions[-1] == FetchCandidates(exclude=frozenset({A}))
    # A was tried: tier 1 has nobody left to offer this caller, so tier 2 is not held back.
    actions = m.handle(CandidatesFetched((cand(B, 2),), LineView(available=1, first_tier=2),
                                         now=at(21)))
    assert Dial(B, 20) in actions


def test_ring_all_adds_the_next_tier_to_the_legs_still_ringing() -> None:
    m, _ = entered(strategy="ring_all")
    assert m.handle(CandidatesFetched((cand(A, 1), cand(B, 2)), LineView(available=2, first_tier=1),
                                      now=at(1))) == [Dial(A, 20), StartTimer(ring_timer(A), 20)]
    # A still rings at the widening: B joins it (ring_all rings every member of the current tiers).
    assert m.handle(TierDue(now=at(10)))[-1] == FetchCandidates(exclude=frozenset({A}))
    # A is tried (ringing) and so no longer counts for tier 1; B is offered either way now.
    actions = m.handle(CandidatesFetched((cand(B, 2),), LineView(available=1, first_tier=2),
                                         now=at(10)))
    assert actions == [Dial(B, 20), StartTimer(ring_timer(B), 20)]
    assert m.ringing_legs == {A, B}
    # B answers: A stops ringing, every timer (the tier's too) is cancelled.
    actions = m.handle(LegAnswered(B, now=at(12)))
    assert CancelTimer(TIER_TIMER) in actions


def test_a_single_leg_strategy_keeps_its_ringing_leg_and_looks_again_after_it() -> None:
    m, _ = entered()
    m.handle(CandidatesFetched((cand(A, 1), cand(B, 2)), LineView(available=2, first_tier=1),
                               now=at(1)))
    assert m.handle(TierDue(now=at(10))) == [StartTimer(TIER_TIMER, 10)]
    actions = m.handle(LegEnded(A, 17, now=at(12)))
    assert actions[-1] == FetchCandidates(exclude=frozenset({A}))


def test_the_tier_timer_runs_once_per_tier_above_the_first_and_not_after_the_hunt() -> None:
    m, _ = entered()
    m.handle(CandidatesFetched((), LineView(available=2, first_tier=1), now=at(1)))
    assert StartTimer(TIER_TIMER, 10) in m.handle(TierDue(now=at(10)))
    m.handle(CandidatesFetched((), LineView(available=2, first_tier=1), now=at(10)))
    # Tier 3 is the last: the second widening starts no third round.
    assert m.handle(TierDue(now=at(20))) == [FetchCandidates(exclude=frozenset())]
    assert TIER_TIMER not in m.timers
    assert m.handle(TierDue(now=at(30))) == []
    # A line signal still wakes the waiting caller as before.
    m.handle(CandidatesFetched((), LineView(available=2, first_tier=1), now=at(20)))
    assert m.handle(LineMoved(now=at(25))) == [FetchCandidates(exclude=frozenset())]

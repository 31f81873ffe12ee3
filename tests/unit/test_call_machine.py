"""The call machine, rule by rule: plain events in, assertions on actions and resulting state."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from teamfoned.routing import (
    ALWAYS_OPEN,
    MAX_WAIT_TIMER,
    Action,
    AttemptResult,
    Bridge,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    CallOutcome,
    CallState,
    CancelTimer,
    Candidate,
    CandidatesFetched,
    Dial,
    FallbackFinished,
    FallbackKind,
    FallbackTarget,
    FetchCandidates,
    FinishCall,
    HangupCaller,
    HangupLeg,
    LegAnswered,
    LegClaimFailed,
    LegEnded,
    LegRinging,
    LegState,
    MarkUnavailableIfMissed,
    MaxWaitReached,
    OpeningHours,
    RecordAnswer,
    RecordAttempt,
    RingTimeout,
    RunFallback,
    RunnerStopped,
    SaveRoundRobin,
    StartRinging,
    StartTimer,
    StopReason,
    TeamPolicy,
    TooLateDone,
    UnknownStrategy,
    attempt_result_for_cause,
    ring_timer,
    timer_fired,
    too_late_timer,
)
from teamfoned.routing.hours import WeeklyPeriod

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))
STRANGER = uuid.UUID(int=99)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cand(member_id: uuid.UUID, priority: int | None = None) -> Candidate:
    return Candidate(
        member_id, member_id.int if priority is None else priority, None, 0
    )


def machine(strategy: str = "linear", rr_position: int | None = None) -> CallMachine:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=10)
    return CallMachine(
        uuid.uuid4(), policy, rng=random.Random(1), rr_position=rr_position
    )


def entered(strategy: str = "linear", rr_position: int | None = None) -> CallMachine:
    m = machine(strategy, rr_position)
    m.handle(CallerEntered(now=at(0)))
    return m


def ringing(
    *members: uuid.UUID, strategy: str = "ring_all", now: float = 1
) -> CallMachine:
    """A machine whose first wave is dialling `members` (ring_all rings them all)."""
    m = entered(strategy)
    m.handle(CandidatesFetched(tuple(cand(x) for x in members), now=at(now)))
    return m


def connected(*members: uuid.UUID, answer: uuid.UUID, now: float = 5) -> CallMachine:
    m = ringing(*members)
    m.handle(LegAnswered(answer, now=at(now)))
    return m


def attempts(actions: list[Action]) -> list[RecordAttempt]:
    return [a for a in actions if isinstance(a, RecordAttempt)]


# -- construction --------------------------------------------------------------------------


def test_unknown_strategy_is_refused_at_construction() -> None:
    with pytest.raises(UnknownStrategy):
        machine("best_effort")


def test_before_caller_entered_events_are_ignored() -> None:
    m = machine()
    assert m.state is CallState.WAITING
    assert m.handle(CallerHungUp(now=at(1))) == []
    assert m.handle(CandidatesFetched((cand(A),), now=at(1))) == []
    assert m.state is CallState.WAITING


# -- starting the hunt ---------------------------------------------------------------------


def test_caller_entered_rings_caller_starts_max_wait_and_fetches() -> None:
    m = machine()
    assert m.handle(CallerEntered(now=at(0))) == [
        StartRinging(),
        StartTimer(MAX_WAIT_TIMER, 120),
        FetchCandidates(exclude=frozenset()),
    ]
    assert m.state is CallState.HUNTING
    assert m.timers == {MAX_WAIT_TIMER}
    assert m.handle(CallerEntered(now=at(1))) == []  # duplicate


def test_candidates_fetched_dials_the_wave_with_ring_timers() -> None:
    m = entered("ring_all")
    actions = m.handle(CandidatesFetched((cand(B), cand(A)), now=at(1)))
    assert actions == [
        Dial(A, 20),
        StartTimer(ring_timer(A), 20),
        Dial(B, 20),
        StartTimer(ring_timer(B), 20),
    ]
    assert m.ringing_legs == {A, B}
    assert m.tried == {A, B}
    assert m.legs[A].state is LegState.DIALLING


def test_single_member_strategy_dials_one() -> None:
    m = entered("linear")
    assert m.handle(CandidatesFetched((cand(B), cand(A)), now=at(1))) == [
        Dial(A, 20),
        StartTimer(ring_timer(A), 20),
    ]


def test_round_robin_saves_its_new_position() -> None:
    m = entered("round_robin", rr_position=1)
    actions = m.handle(CandidatesFetched((cand(A), cand(B), cand(C)), now=at(1)))
    assert actions == [Dial(B, 20), StartTimer(ring_timer(B), 20), SaveRoundRobin(2)]
    assert m.rr_position == 2


def test_round_robin_unchanged_position_is_not_saved() -> None:
    # Only one candidate, the one at the stored position: picked again, nothing to save.
    m = entered("round_robin", rr_position=1)
    actions = m.handle(CandidatesFetched((cand(A),), now=at(1)))
    assert not any(isinstance(a, SaveRoundRobin) for a in actions)


def test_duplicate_candidates_fetched_is_ignored() -> None:
    m = ringing(A)
    assert m.handle(CandidatesFetched((cand(B),), now=at(2))) == []
    assert m.tried == {A}


def test_already_tried_candidates_are_never_dialled_again() -> None:
    m = ringing(A, strategy="linear")
    m.handle(LegEnded(A, 17, now=at(3)))
    actions = m.handle(CandidatesFetched((cand(A), cand(B)), now=at(4)))
    assert Dial(B, 20) in actions
    assert Dial(A, 20) not in actions


def test_no_candidates_at_all_runs_fallback_no_one_available() -> None:
    m = entered()
    actions = m.handle(CandidatesFetched((), now=at(1)))
    assert actions == [
        CancelTimer(MAX_WAIT_TIMER),
        RunFallback(CallOutcome.NO_ONE_AVAILABLE),
    ]
    assert m.state is CallState.FALLBACK
    assert m.timers == frozenset()


def test_fallback_finished_finishes_with_the_fallback_outcome() -> None:
    m = entered()
    m.handle(CandidatesFetched((), now=at(1)))
    assert m.handle(FallbackFinished(now=at(30))) == [
        FinishCall(CallOutcome.NO_ONE_AVAILABLE, None, 1.0, None)
    ]
    assert m.finished
    assert m.outcome is CallOutcome.NO_ONE_AVAILABLE
    assert m.handle(FallbackFinished(now=at(31))) == []


def test_caller_hanging_up_during_fallback_finishes_with_the_fallback_outcome() -> None:
    m = entered()
    m.handle(CandidatesFetched((), now=at(2)))
    assert m.handle(CallerHungUp(now=at(9))) == [
        FinishCall(CallOutcome.NO_ONE_AVAILABLE, None, 2.0, None)
    ]
    assert m.handle(FallbackFinished(now=at(10))) == []


def test_candidates_running_out_after_failures_is_no_one_available() -> None:
    m = ringing(A, strategy="linear")
    assert m.handle(LegEnded(A, 17, now=at(3))) == [
        CancelTimer(ring_timer(A)),
        RecordAttempt(A, AttemptResult.BUSY),
        FetchCandidates(exclude=frozenset({A})),
    ]
    assert m.handle(CandidatesFetched((), now=at(4))) == [
        CancelTimer(MAX_WAIT_TIMER),
        RunFallback(CallOutcome.NO_ONE_AVAILABLE),
    ]


# -- claims --------------------------------------------------------------------------------


def test_lost_claim_records_nothing_and_fetches_again() -> None:
    m = ringing(A, strategy="linear")
    actions = m.handle(LegClaimFailed(A, now=at(1)))
    assert actions == [
        CancelTimer(ring_timer(A)),
        FetchCandidates(exclude=frozenset({A})),
    ]
    assert attempts(actions) == []
    assert m.legs[A].state is LegState.NOT_CLAIMED
    assert m.live_legs == frozenset()


def test_lost_claim_waits_while_another_leg_rings() -> None:
    m = ringing(A, B)
    assert m.handle(LegClaimFailed(A, now=at(1))) == [CancelTimer(ring_timer(A))]
    assert m.ringing_legs == {B}


def test_lost_claim_after_ringing_is_ignored() -> None:
    m = ringing(A)
    m.handle(LegRinging(A, now=at(2)))
    assert m.handle(LegClaimFailed(A, now=at(2))) == []
    assert m.handle(LegClaimFailed(STRANGER, now=at(2))) == []
    assert m.legs[A].state is LegState.RINGING


# -- answering -----------------------------------------------------------------------------


def test_answer_records_cancels_timers_hangs_up_others_and_bridges() -> None:
    m = ringing(A, B, C)
    m.handle(LegRinging(A, now=at(2)))
    actions = m.handle(LegAnswered(B, now=at(5)))
    assert actions == [
        RecordAnswer(B),
        CancelTimer(MAX_WAIT_TIMER),
        CancelTimer(ring_timer(A)),
        CancelTimer(ring_timer(B)),
        CancelTimer(ring_timer(C)),
        HangupLeg(A, answered_elsewhere=True),
        RecordAttempt(A, AttemptResult.CANCELLED),
        HangupLeg(C, answered_elsewhere=True),
        RecordAttempt(C, AttemptResult.CANCELLED),
        Bridge(B),
    ]
    assert m.state is CallState.CONNECTED
    assert m.answered_by == B
    assert m.timers == frozenset()
    assert m.live_legs == {A, B, C}  # A and C are hanging up


def test_cancelled_legs_ending_later_record_nothing_more() -> None:
    m = connected(A, B, answer=B)
    assert m.handle(LegEnded(A, 16, now=at(6))) == []
    assert m.legs[A].state is LegState.ENDED
    assert m.legs[A].result is AttemptResult.CANCELLED


def test_second_answer_in_a_ring_all_race_is_hung_up_once() -> None:
    m = connected(A, B, answer=A)
    assert m.handle(LegAnswered(B, now=at(5))) == [HangupLeg(B)]
    assert m.handle(LegAnswered(B, now=at(5))) == []
    assert m.legs[B].result is AttemptResult.CANCELLED
    assert m.answered_by == A


def test_duplicate_answer_of_connected_leg_is_ignored() -> None:
    m = connected(A, answer=A)
    assert m.handle(LegAnswered(A, now=at(6))) == []
    assert m.handle(LegAnswered(STRANGER, now=at(6))) == []


def test_connected_leg_ending_hangs_up_caller_and_finishes_answered() -> None:
    m = connected(A, B, answer=A, now=5)
    assert m.handle(LegEnded(A, 16, now=at(65))) == [
        HangupCaller(),
        RecordAttempt(A, AttemptResult.ANSWERED),
        FinishCall(CallOutcome.ANSWERED, A, 5.0, 60.0),
    ]
    assert m.finished
    assert m.outcome is CallOutcome.ANSWERED
    assert m.live_legs == {B}  # still hanging up; its result is already recorded


def test_caller_hanging_up_while_connected_finishes_answered() -> None:
    m = connected(A, answer=A, now=5)
    assert m.handle(CallerHungUp(now=at(35))) == [
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.ANSWERED),
        FinishCall(CallOutcome.ANSWERED, A, 5.0, 30.0),
    ]
    assert m.handle(LegEnded(A, 16, now=at(36))) == []


def test_max_wait_after_answer_is_ignored() -> None:
    m = connected(A, answer=A)
    assert m.handle(MaxWaitReached(now=at(120))) == []
    assert m.state is CallState.CONNECTED


# -- legs ending without an answer ---------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "result"),
    [
        (17, AttemptResult.BUSY),
        (21, AttemptResult.REJECTED),
        (19, AttemptResult.NO_ANSWER),
        (18, AttemptResult.NO_ANSWER),
        (1, AttemptResult.UNREACHABLE),
        (3, AttemptResult.UNREACHABLE),
        (27, AttemptResult.UNREACHABLE),
        (38, AttemptResult.UNREACHABLE),
        (34, AttemptResult.UNREACHABLE),
        (16, AttemptResult.FAILED),
        (0, AttemptResult.FAILED),
        (None, AttemptResult.FAILED),
    ],
)
def test_leg_ended_records_the_result_of_its_cause(
    cause: int | None, result: AttemptResult
) -> None:
    assert attempt_result_for_cause(cause) is result
    m = ringing(A, strategy="linear", now=1)
    actions = m.handle(LegEnded(A, cause, now=at(4)))
    assert attempts(actions) == [RecordAttempt(A, result)]


def test_leg_ended_at_ring_time_is_no_answer_whatever_the_cause() -> None:
    # Older Asterisk reports cause 0 when its own dial timeout beats our ring timer.
    m = ringing(A, strategy="linear", now=1)
    assert attempts(m.handle(LegEnded(A, 0, now=at(21)))) == [
        RecordAttempt(A, AttemptResult.NO_ANSWER)
    ]


def test_leg_ended_waits_for_other_ringing_legs_before_fetching() -> None:
    m = ringing(A, B)
    assert m.handle(LegEnded(A, 17, now=at(3))) == [
        CancelTimer(ring_timer(A)),
        RecordAttempt(A, AttemptResult.BUSY),
    ]
    actions = m.handle(LegEnded(B, 21, now=at(4)))
    assert actions[-1] == FetchCandidates(exclude=frozenset({A, B}))


def test_duplicate_leg_ended_is_ignored() -> None:
    m = ringing(A, B)
    m.handle(LegEnded(A, 17, now=at(3)))
    assert m.handle(LegEnded(A, 17, now=at(3))) == []
    assert m.handle(LegEnded(STRANGER, 17, now=at(3))) == []


def test_ring_timeout_hangs_up_records_no_answer_and_hunts_on() -> None:
    m = ringing(A, strategy="linear")
    assert m.handle(RingTimeout(A, now=at(21))) == [
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.NO_ANSWER),
        FetchCandidates(exclude=frozenset({A})),
    ]
    assert m.timers == {MAX_WAIT_TIMER}
    # Our timer wins: the cause the channel ends with changes nothing.
    assert m.handle(LegEnded(A, 17, now=at(21))) == []
    assert m.legs[A].result is AttemptResult.NO_ANSWER
    assert m.handle(RingTimeout(A, now=at(21))) == []


def test_late_answer_of_a_timed_out_leg_is_hung_up_not_bridged() -> None:
    m = ringing(A, strategy="linear")
    m.handle(RingTimeout(A, now=at(21)))
    assert m.handle(LegAnswered(A, now=at(21))) == [HangupLeg(A)]
    assert m.state is CallState.HUNTING
    assert m.answered_by is None


def test_next_wave_after_a_no_answer() -> None:
    m = ringing(A, strategy="linear")
    m.handle(RingTimeout(A, now=at(21)))
    assert m.handle(CandidatesFetched((cand(B),), now=at(21))) == [
        Dial(B, 20),
        StartTimer(ring_timer(B), 20),
    ]


# -- the caller leaves, the wait runs out --------------------------------------------------


def test_caller_hanging_up_while_hunting_cancels_every_leg_and_abandons() -> None:
    m = ringing(A, B)
    m.handle(LegEnded(B, 17, now=at(2)))
    assert m.handle(CallerHungUp(now=at(8))) == [
        CancelTimer(ring_timer(A)),
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.CANCELLED),
        CancelTimer(MAX_WAIT_TIMER),
        FinishCall(CallOutcome.ABANDONED, None, 8.0, None),
    ]
    assert m.outcome is CallOutcome.ABANDONED
    assert m.handle(LegEnded(A, 16, now=at(9))) == []
    assert m.handle(CallerHungUp(now=at(9))) == []


def test_caller_hanging_up_while_fetching_abandons() -> None:
    m = entered()
    assert m.handle(CallerHungUp(now=at(1))) == [
        CancelTimer(MAX_WAIT_TIMER),
        FinishCall(CallOutcome.ABANDONED, None, 1.0, None),
    ]
    assert m.handle(CandidatesFetched((cand(A),), now=at(2))) == []


def test_max_wait_hangs_up_ringing_legs_and_runs_fallback_timed_out() -> None:
    m = ringing(A, B)
    assert m.handle(MaxWaitReached(now=at(120))) == [
        CancelTimer(ring_timer(A)),
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.CANCELLED),
        CancelTimer(ring_timer(B)),
        HangupLeg(B),
        RecordAttempt(B, AttemptResult.CANCELLED),
        RunFallback(CallOutcome.TIMED_OUT),
    ]
    assert m.state is CallState.FALLBACK
    assert m.handle(MaxWaitReached(now=at(120))) == []
    assert m.handle(LegAnswered(A, now=at(120))) == [HangupLeg(A)]
    assert m.handle(FallbackFinished(now=at(150))) == [
        FinishCall(CallOutcome.TIMED_OUT, None, 120.0, None)
    ]


def test_max_wait_while_fetching_drops_the_late_candidates() -> None:
    m = entered()
    m.handle(MaxWaitReached(now=at(120)))
    assert m.handle(CandidatesFetched((cand(A),), now=at(121))) == []
    assert m.tried == frozenset()


# -- after the end -------------------------------------------------------------------------


def test_nothing_after_finish() -> None:
    m = connected(A, answer=A)
    m.handle(CallerHungUp(now=at(10)))
    late = [
        CallerEntered(now=at(11)),
        CandidatesFetched((cand(B),), now=at(11)),
        LegClaimFailed(A, now=at(11)),
        LegRinging(A, now=at(11)),
        LegAnswered(A, now=at(11)),
        LegEnded(A, 16, now=at(11)),
        RingTimeout(A, now=at(11)),
        MaxWaitReached(now=at(11)),
        CallerHungUp(now=at(11)),
        FallbackFinished(now=at(11)),
        TooLateDone(A, now=at(11)),
        RunnerStopped(StopReason.RUNNER_FAILED, now=at(11)),
    ]
    for event in late:
        assert m.handle(event) == []
    assert m.finished


# -- timers --------------------------------------------------------------------------------


def test_timer_names_turn_back_into_events() -> None:
    assert timer_fired(MAX_WAIT_TIMER, now=at(1)) == MaxWaitReached(now=at(1))
    assert timer_fired(ring_timer(A), now=at(2)) == RingTimeout(A, now=at(2))
    assert timer_fired("ring:not-a-uuid", now=at(2)) is None
    assert timer_fired("wrap_up", now=at(2)) is None
    assert timer_fired(too_late_timer(A), now=at(3)) == TooLateDone(A, now=at(3))
    assert timer_fired("too-late:nobody", now=at(3)) is None


# -- opening hours -------------------------------------------------------------------------

# T0 is a Wednesday, 09:00 UTC.
MORNINGS = OpeningHours((WeeklyPeriod(2, "08:00", "12:00"),), frozenset(), UTC)
AFTERNOONS = OpeningHours((WeeklyPeriod(2, "13:00", "17:00"),), frozenset(), UTC)
CLOSED_TARGET = FallbackTarget(FallbackKind.NUMBER, "+31201239999")


def with_fallbacks(closed: FallbackTarget | None) -> CallMachine:
    policy = TeamPolicy(strategy="linear", ring_time=20, max_wait=120, wrap_up=0,
                        fallback=FallbackTarget(FallbackKind.ANNOUNCE), closed_fallback=closed)
    return CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)


def test_open_team_hunts_as_always() -> None:
    for hours in (MORNINGS, ALWAYS_OPEN):
        m = machine()
        actions = m.handle(CallerEntered(hours, now=at(0)))
        assert actions[0] == StartRinging() and m.state is CallState.HUNTING


def test_closed_team_runs_the_closed_fallback_and_finishes_through_it() -> None:
    m = with_fallbacks(CLOSED_TARGET)
    # Nobody rings, no max wait: the closed fallback at once.
    assert m.handle(CallerEntered(AFTERNOONS, now=at(0))) == [
        RunFallback(CallOutcome.CLOSED, CLOSED_TARGET)
    ]
    assert m.state is CallState.FALLBACK and m.timers == frozenset()
    assert m.handle(FallbackFinished(now=at(40))) == [
        FinishCall(CallOutcome.CLOSED, None, 0.0, None)
    ]
    assert m.outcome is CallOutcome.CLOSED


def test_closed_team_without_its_own_fallback_gets_the_shipped_one() -> None:
    # Not the team's no-answer fallback: None, the shipped closed context.
    m = with_fallbacks(None)
    assert m.handle(CallerEntered(AFTERNOONS, now=at(0))) == [RunFallback(CallOutcome.CLOSED)]
    assert m.handle(CallerHungUp(now=at(3)))[-1] == FinishCall(CallOutcome.CLOSED, None, 0.0, None)


def test_a_holiday_closes_an_open_hour() -> None:
    holiday = OpeningHours(MORNINGS.periods, frozenset({T0.date()}), UTC)
    m = with_fallbacks(CLOSED_TARGET)
    assert m.handle(CallerEntered(holiday, now=at(0))) == [
        RunFallback(CallOutcome.CLOSED, CLOSED_TARGET)
    ]


def test_the_no_answer_fallback_is_the_teams_own() -> None:
    m = with_fallbacks(CLOSED_TARGET)
    m.handle(CallerEntered(MORNINGS, now=at(0)))
    assert m.handle(CandidatesFetched((), now=at(1)))[-1] == RunFallback(
        CallOutcome.NO_ONE_AVAILABLE, FallbackTarget(FallbackKind.ANNOUNCE)
    )


# -- auto-unavailable ----------------------------------------------------------------------


def auto_unavailable(after: int | None, strategy: str = "ring_all") -> CallMachine:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=0,
                        auto_unavailable_after=after)
    m = CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(now=at(0)))
    return m


def test_an_unanswered_ring_asks_to_mark_the_member_unavailable_right_after_its_record() -> None:
    m = auto_unavailable(3)
    m.handle(CandidatesFetched((cand(A), cand(B)), now=at(1)))
    # A no-answer cause from the network counts...
    assert m.handle(LegEnded(B, 19, now=at(5))) == [
        CancelTimer(ring_timer(B)),
        RecordAttempt(B, AttemptResult.NO_ANSWER),
        MarkUnavailableIfMissed(B, 3),
    ]
    # ... and so does our own ring timer.
    assert m.handle(RingTimeout(A, now=at(21))) == [
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.NO_ANSWER),
        MarkUnavailableIfMissed(A, 3),
        FetchCandidates(exclude=frozenset({A, B})),
    ]


def test_other_results_and_teams_without_a_threshold_mark_nobody() -> None:
    m = auto_unavailable(3)
    m.handle(CandidatesFetched((cand(A), cand(B), cand(C)), now=at(1)))
    busy = m.handle(LegEnded(A, 17, now=at(2)))
    cancelled = m.handle(LegAnswered(B, now=at(3)))
    assert not any(isinstance(a, MarkUnavailableIfMissed) for a in busy + cancelled)
    m = auto_unavailable(None)
    m.handle(CandidatesFetched((cand(A),), now=at(1)))
    assert not any(isinstance(a, MarkUnavailableIfMissed) for a in m.handle(RingTimeout(A, now=at(21))))


# -- the runner stops ----------------------------------------------------------------------


def stopped(m: CallMachine, reason: StopReason, now: float = 9) -> list[Action]:
    return m.handle(RunnerStopped(reason, now=at(now)))


def test_runner_stopping_while_hunting_fails_the_legs_and_hands_the_caller_over() -> None:
    m = ringing(A, B)
    m.handle(LegEnded(A, 17, now=at(2)))  # recorded busy: nothing more for A
    assert stopped(m, StopReason.DAEMON_STOPPING) == [
        HangupLeg(B),
        RecordAttempt(B, AttemptResult.FAILED),
        RunFallback(CallOutcome.FAILED),
        CancelTimer(MAX_WAIT_TIMER),
        CancelTimer(ring_timer(B)),
        FinishCall(CallOutcome.FAILED, None, None, None),
    ]
    assert m.finished and m.outcome is CallOutcome.FAILED
    assert stopped(m, StopReason.RUNNER_FAILED) == []


def test_database_away_is_a_fallback_call() -> None:
    m = entered()
    assert stopped(m, StopReason.DATABASE_UNAVAILABLE) == [
        RunFallback(CallOutcome.FALLBACK),
        CancelTimer(MAX_WAIT_TIMER),
        FinishCall(CallOutcome.FALLBACK, None, None, None),
    ]


def test_runner_stopping_before_the_call_entered_still_ends_it() -> None:
    m = machine()
    assert stopped(m, StopReason.DATABASE_UNAVAILABLE) == [
        RunFallback(CallOutcome.FALLBACK),
        FinishCall(CallOutcome.FALLBACK, None, None, None),
    ]
    assert m.handle(CallerEntered(now=at(10))) == []


def test_runner_stopping_during_the_fallback_finishes_it_failed() -> None:
    m = entered()
    m.handle(CandidatesFetched((), now=at(1)))
    # RunFallback again: the runner does not move a caller already in the dialplan.
    assert stopped(m, StopReason.DAEMON_STOPPING) == [
        RunFallback(CallOutcome.FAILED),
        FinishCall(CallOutcome.FAILED, None, None, None),
    ]


def test_daemon_stopping_while_bridged_hangs_up_both_sides() -> None:
    m = connected(A, B, answer=A)
    assert stopped(m, StopReason.DAEMON_STOPPING) == [
        HangupLeg(A),
        RecordAttempt(A, AttemptResult.FAILED),
        HangupCaller(),
        FinishCall(CallOutcome.FAILED, A, None, None),
    ]


def test_runner_failing_while_bridged_leaves_the_caller_alone() -> None:
    m = connected(A, answer=A)
    actions = stopped(m, StopReason.RUNNER_FAILED)
    assert HangupCaller() not in actions
    assert not any(isinstance(a, RunFallback) for a in actions)
    assert actions[-1] == FinishCall(CallOutcome.FAILED, A, None, None)

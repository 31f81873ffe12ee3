"""The call machine's waiting line: when a caller waits, for what, and every way out of the line."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.routing import (
    ANNOUNCE_TIMER,
    MAX_WAIT_TIMER,
    AnnounceDue,
    AnnouncementFinished,
    AnnouncePosition,
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
    FetchCandidates,
    FinishCall,
    HangupLeg,
    JoinLine,
    LeaveLine,
    LegAnswered,
    LegClaimFailed,
    LegEnded,
    LineMoved,
    LineView,
    MaxWaitReached,
    RecordAnswer,
    RecordAttempt,
    RunFallback,
    RunnerStopped,
    StartRinging,
    StartTimer,
    StopReason,
    TeamPolicy,
    ring_timer,
)

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
A, B = (uuid.UUID(int=n) for n in (1, 2))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cand(member_id: uuid.UUID) -> Candidate:
    return Candidate(member_id, member_id.int, None, 0)


def entered(*, wait_when_none_available: bool = False, strategy: str = "linear",
            can_wait: bool = True) -> CallMachine:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=0,
                        wait_when_none_available=wait_when_none_available, can_wait=can_wait)
    m = CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(now=at(0)))
    return m


def waiting(**kwargs: bool) -> CallMachine:
    """A caller who found every available member busy and joined the line."""
    m = entered(**kwargs)
    assert m.handle(CandidatesFetched((), LineView(available=2), now=at(1))) == [JoinLine(at(0))]
    return m


def test_all_available_members_busy_the_caller_joins_the_line_in_arrival_order() -> None:
    m = waiting()
    assert m.state is CallState.HUNTING and m.in_line and m.waiting
    assert MAX_WAIT_TIMER in m.timers  # the max wait keeps running in the line


def test_nobody_available_falls_back_at_once_by_default() -> None:
    m = entered()
    assert m.handle(CandidatesFetched((), LineView(available=0), now=at(1))) == [
        CancelTimer(MAX_WAIT_TIMER), RunFallback(CallOutcome.NO_ONE_AVAILABLE)]
    assert not m.in_line


def test_nobody_available_waits_when_the_team_says_so() -> None:
    m = entered(wait_when_none_available=True)
    assert m.handle(CandidatesFetched((), LineView(available=0), now=at(1))) == [JoinLine(at(0))]


def test_a_free_member_is_left_to_the_callers_ahead() -> None:
    m = entered()
    # One member is free, one caller waits ahead: that member is theirs.
    assert m.handle(CandidatesFetched((cand(A),), LineView(ahead=1, available=1), now=at(1))) == [
        JoinLine(at(0))]
    # Two free, one caller ahead: the first (in priority order) is theirs, this call takes the next.
    m.handle(LineMoved(now=at(2)))
    actions = m.handle(CandidatesFetched((cand(A), cand(B)), LineView(ahead=1, available=2), now=at(3)))
    assert actions == [Dial(B, 20), StartTimer(ring_timer(B), 20)]
    assert m.in_line and not m.waiting


def test_line_moved_looks_again_once_and_only_while_waiting() -> None:
    m = waiting()
    assert m.handle(LineMoved(now=at(2))) == [FetchCandidates(exclude=frozenset())]
    # A second wake-up while the look is under way changes nothing.
    assert m.handle(LineMoved(now=at(2))) == []
    actions = m.handle(CandidatesFetched((cand(A),), LineView(available=2), now=at(3)))
    assert Dial(A, 20) in actions
    assert m.handle(LineMoved(now=at(4))) == []  # ringing: not waiting


def test_answered_from_the_line_leaves_it_at_once() -> None:
    m = waiting()
    m.handle(LineMoved(now=at(2)))
    m.handle(CandidatesFetched((cand(A),), LineView(available=2), now=at(3)))
    actions = m.handle(LegAnswered(A, now=at(4)))
    assert actions[:2] == [RecordAnswer(A), LeaveLine()]
    assert actions[-1] == Bridge(A)
    assert not m.in_line


def test_no_answer_puts_the_caller_back_in_their_place() -> None:
    m = waiting()
    m.handle(LineMoved(now=at(2)))
    m.handle(CandidatesFetched((cand(A),), LineView(available=2), now=at(3)))
    actions = m.handle(LegEnded(A, 17, now=at(4)))
    assert actions == [CancelTimer(ring_timer(A)), RecordAttempt(A, AttemptResult.BUSY),
                       FetchCandidates(exclude=frozenset({A}))]
    # Still in line (no second JoinLine: the place is kept).
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(5))) == []
    assert m.waiting and m.in_line


def test_a_member_lost_to_another_claim_may_be_offered_again_from_the_line() -> None:
    m = waiting()
    m.handle(LineMoved(now=at(2)))
    m.handle(CandidatesFetched((cand(A),), LineView(available=2), now=at(3)))
    assert m.handle(LegClaimFailed(A, now=at(3))) == [
        CancelTimer(ring_timer(A)), FetchCandidates(exclude=frozenset({A}))]
    m.handle(CandidatesFetched((), LineView(available=2), now=at(4)))
    assert m.handle(LineMoved(now=at(5))) == [FetchCandidates(exclude=frozenset())]


def test_caller_hangs_up_in_the_line_abandoned_with_the_time_waited() -> None:
    m = waiting()
    assert m.handle(CallerHungUp(now=at(7))) == [
        LeaveLine(), CancelTimer(MAX_WAIT_TIMER), FinishCall(CallOutcome.ABANDONED, None, 7.0, None)]


def test_max_wait_in_the_line_times_out_into_the_fallback() -> None:
    m = waiting()
    assert m.handle(MaxWaitReached(now=at(120))) == [
        LeaveLine(), RunFallback(CallOutcome.TIMED_OUT)]


def test_every_member_gone_unavailable_falls_back_from_the_line() -> None:
    m = waiting()
    m.handle(LineMoved(now=at(30)))
    assert m.handle(CandidatesFetched((), LineView(available=0), now=at(30))) == [
        LeaveLine(), CancelTimer(MAX_WAIT_TIMER), RunFallback(CallOutcome.NO_ONE_AVAILABLE)]


def test_runner_stopped_in_the_line_leaves_it_before_the_call_is_finished() -> None:
    m = waiting()
    actions = m.handle(RunnerStopped(StopReason.DAEMON_STOPPING, now=at(3)))
    assert actions == [RunFallback(CallOutcome.FAILED), LeaveLine(), CancelTimer(MAX_WAIT_TIMER),
                       FinishCall(CallOutcome.FAILED, None, None, None)]
    assert not [a for a in actions if isinstance(a, HangupLeg)]


def test_members_lost_to_other_calls_claims_count_as_busy() -> None:
    m = entered()
    m.handle(CandidatesFetched((cand(A),), LineView(available=1), now=at(1)))
    # Another call claimed A first; the store now counts nobody available that this call has
    # not tried (A is in its exclude list), yet A is only busy: wait, do not fall back.
    m.handle(LegClaimFailed(A, now=at(1)))
    assert m.handle(CandidatesFetched((), LineView(available=0), now=at(2))) == [JoinLine(at(0))]


def test_a_call_that_cannot_wait_falls_back_where_another_would_wait() -> None:
    # A FastAGI call: the site's dialplan holds the caller and nothing would wake it in a line.
    m = entered(can_wait=False, wait_when_none_available=True)
    m.handle(CandidatesFetched((cand(A),), LineView(available=1), now=at(1)))
    m.handle(LegClaimFailed(A, now=at(1)))  # another call was faster
    actions = m.handle(CandidatesFetched((), LineView(available=2), now=at(2)))
    assert not any(isinstance(a, JoinLine) for a in actions)
    assert actions[-1] == RunFallback(CallOutcome.NO_ONE_AVAILABLE)
    assert not m.in_line


def test_with_the_line_unreadable_a_waiting_caller_keeps_waiting_a_new_one_is_not_held() -> None:
    m = waiting()
    m.handle(LineMoved(now=at(2)))
    assert m.handle(CandidatesFetched((), LineView(unknown=True), now=at(2))) == []
    assert m.waiting and m.in_line
    fresh = entered()
    assert fresh.handle(CandidatesFetched((), LineView(unknown=True), now=at(1))) == [
        CancelTimer(MAX_WAIT_TIMER), RunFallback(CallOutcome.NO_ONE_AVAILABLE)]


def test_a_waiting_caller_hears_their_place_at_once_and_then_every_n_seconds() -> None:
    policy = TeamPolicy(strategy="linear", ring_time=20, max_wait=120, wrap_up=0,
                        announce_position_every=30)
    m = CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(now=at(0)))
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(1))) == [
        JoinLine(at(0)), AnnouncePosition(), StartTimer(ANNOUNCE_TIMER, 30)]
    # Once it has played, the caller hears ringing again.
    assert m.handle(AnnouncementFinished(now=at(3))) == [StartRinging()]
    assert m.handle(AnnounceDue(now=at(31))) == [AnnouncePosition(), StartTimer(ANNOUNCE_TIMER, 30)]
    # While a member rings for them the round is skipped, the timer goes on.
    m.handle(LineMoved(now=at(40)))
    m.handle(CandidatesFetched((cand(A),), LineView(available=1), now=at(40)))
    assert m.handle(AnnounceDue(now=at(61))) == [StartTimer(ANNOUNCE_TIMER, 30)]
    # Answered: the announcements stop with every other timer.
    actions = m.handle(LegAnswered(A, now=at(62)))
    assert CancelTimer(ANNOUNCE_TIMER) in actions and ANNOUNCE_TIMER not in m.timers
    assert m.handle(AnnounceDue(now=at(91))) == []

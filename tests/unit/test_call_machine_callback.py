"""The call machine's callback: offered in the line, requested with the key, the member first, then the caller; retries and giving up."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.routing import (
    ANNOUNCE_TIMER,
    CALLBACK_CONFIRM_TIMER,
    CALLBACK_RETRY_TIMER,
    CALLBACK_RING_TIMER,
    MAX_WAIT_TIMER,
    AnnounceDue,
    AnnouncementFinished,
    AnnouncePosition,
    AskConfirmation,
    AttemptResult,
    Bridge,
    CallBack,
    CallbackAnswered,
    CallbackConfirmDone,
    CallbackEnded,
    CallbackRetryDue,
    CallbackRetryLater,
    CallbackRingTimeout,
    CallerDigit,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    CallOutcome,
    CallState,
    CancelTimer,
    Candidate,
    CandidatesFetched,
    ConfirmCallback,
    Dial,
    FetchCandidates,
    FinishCall,
    HangupCaller,
    HangupLeg,
    JoinLine,
    KeepCallbackRequest,
    LeaveLine,
    LegAnswered,
    LegDigit,
    LegEnded,
    LineMoved,
    LineView,
    OfferCallback,
    RecordAnswer,
    RecordAttempt,
    RunFallback,
    RunnerStopped,
    StartTimer,
    StopReason,
    TeamPolicy,
    TellTooLate,
    confirm_timer,
    ring_timer,
    timer_fired,
)
from teamfoned.routing.call import PROMPT_LIMIT_SECONDS, CallbackPhase, LegState
from teamfoned.routing.model import MISSED_OUTCOMES

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
A, B = (uuid.UUID(int=n) for n in (1, 2))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cand(member_id: uuid.UUID) -> Candidate:
    return Candidate(member_id, member_id.int, None, 0, external=False)


def policy(**changes: object) -> TeamPolicy:
    values: dict[str, object] = dict(strategy="linear", ring_time=20, max_wait=120, wrap_up=0,
                                     callback_key="5", callback_attempts=2, callback_retry_after=30)
    values.update(changes)
    return TeamPolicy(**values)  # type: ignore[arg-type]


def waiting(*, allowed: bool = True, **changes: object) -> tuple[CallMachine, list[object]]:
    """A caller in the line of a team that offers callbacks; the actions of joining it."""
    m = CallMachine(uuid.uuid4(), policy(**changes), rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(callback_allowed=allowed, now=at(0)))
    joined = m.handle(CandidatesFetched((), LineView(available=1), now=at(1)))
    return m, list(joined)


def requested() -> CallMachine:
    m, _ = waiting()
    actions = m.handle(CallerDigit("5", now=at(5)))
    assert actions == [CancelTimer(MAX_WAIT_TIMER), ConfirmCallback(),
                       StartTimer(CALLBACK_CONFIRM_TIMER, PROMPT_LIMIT_SECONDS)]
    assert m.handle(CallbackConfirmDone(now=at(8))) == [CancelTimer(CALLBACK_CONFIRM_TIMER), HangupCaller()]
    assert m.handle(CallerHungUp(now=at(8.1))) == []  # what they were told to do
    return m


def accepted(m: CallMachine, now: float = 20) -> list[object]:
    """A member is free: rung, answers, hears the callback prompt and presses 1."""
    assert m.handle(LineMoved(now=at(now))) == [FetchCandidates(exclude=m.tried)]
    assert m.handle(CandidatesFetched((cand(A),), now=at(now))) == [
        Dial(A, 20), StartTimer(ring_timer(A), 20)]
    answered = m.handle(LegAnswered(A, now=at(now + 1)))
    # Always confirmed (a desk phone too): the member hears whom they call back.
    assert AskConfirmation(A, callback=True) in answered
    return m.handle(LegDigit(A, "1", now=at(now + 2)))


def test_the_offer_comes_at_joining_the_line_when_there_is_no_position_announcement() -> None:
    _, joined = waiting()
    assert joined == [JoinLine(at(0)), OfferCallback("5")]


def test_the_offer_comes_with_every_position_announcement() -> None:
    m, joined = waiting(announce_position_every=30.0)
    assert joined == [JoinLine(at(0)), AnnouncePosition(callback_key="5"), StartTimer(ANNOUNCE_TIMER, 30.0)]
    assert m.handle(AnnounceDue(now=at(31))) == [AnnouncePosition(callback_key="5"), StartTimer(ANNOUNCE_TIMER, 30.0)]


def test_no_offer_to_a_number_that_may_not_be_dialled_nor_without_a_key() -> None:
    for machine, joined in (waiting(allowed=False), waiting(callback_key=None)):
        assert joined == [JoinLine(at(0))]
        assert machine.handle(CallerDigit("5", now=at(3))) == []
        assert machine.callback is None


def test_no_offer_to_a_call_that_cannot_wait() -> None:
    m = CallMachine(uuid.uuid4(), policy(can_wait=False), rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(callback_allowed=True, now=at(0)))
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(1))) == [
        CancelTimer(MAX_WAIT_TIMER), RunFallback(CallOutcome.NO_ONE_AVAILABLE, None)]


def test_another_key_or_a_key_while_a_member_rings_does_nothing() -> None:
    m, _ = waiting()
    assert m.handle(CallerDigit("4", now=at(2))) == []
    m.handle(LineMoved(now=at(3)))
    m.handle(CandidatesFetched((cand(A),), now=at(3)))
    assert m.handle(CallerDigit("5", now=at(4))) == []  # A rings for them: that may be answered
    assert m.callback is None


def test_the_key_confirms_hangs_up_and_keeps_the_place_in_the_line() -> None:
    m = requested()
    assert m.callback is CallbackPhase.WAITING and m.in_line and m.state is CallState.HUNTING
    assert MAX_WAIT_TIMER not in m.timers  # no maximum wait for a request
    assert m.handle(AnnouncementFinished(now=at(9))) == []  # nobody to ring to any more


def test_the_member_first_then_the_caller_from_the_team_then_the_bridge() -> None:
    m = requested()
    actions = accepted(m)
    assert actions == [CancelTimer(confirm_timer(A)), CallBack(A, 20), StartTimer(CALLBACK_RING_TIMER, 20)]
    assert m.legs[A].state is LegState.HOLDING and m.callback is CallbackPhase.CALLING
    assert m.handle(CallbackAnswered(now=at(30))) == [
        RecordAnswer(A), LeaveLine(), CancelTimer(CALLBACK_RING_TIMER), Bridge(A)]
    assert m.state is CallState.CONNECTED
    end = m.handle(LegEnded(A, 16, now=at(90)))
    assert end == [HangupCaller(), RecordAttempt(A, AttemptResult.ANSWERED),
                   FinishCall(CallOutcome.CALLBACK_ANSWERED, A, 30.0, 60.0)]


def test_the_caller_hangs_up_the_talk_as_a_callback_answered() -> None:
    m = requested()
    accepted(m)
    m.handle(CallbackAnswered(now=at(30)))
    assert m.handle(CallerHungUp(now=at(40))) == [
        HangupLeg(A), RecordAttempt(A, AttemptResult.ANSWERED),
        FinishCall(CallOutcome.CALLBACK_ANSWERED, A, 30.0, 10.0)]


def test_a_member_who_declines_the_callback_the_next_one_rings() -> None:
    m = requested()
    m.handle(LineMoved(now=at(20)))
    m.handle(CandidatesFetched((cand(A), cand(B)), now=at(20)))
    m.handle(LegAnswered(A, now=at(21)))
    declined = m.handle(LegDigit(A, "2", now=at(22)))
    assert RecordAttempt(A, AttemptResult.DECLINED) in declined and declined[-1] == FetchCandidates(
        exclude=frozenset({A}))


def test_an_unanswered_callback_releases_the_member_and_retries_after_the_pause() -> None:
    m = requested()
    accepted(m)
    actions = m.handle(timer_fired(CALLBACK_RING_TIMER, now=at(42)))  # type: ignore[arg-type]
    assert actions == [HangupCaller(), HangupLeg(A), RecordAttempt(A, AttemptResult.CALLBACK_UNANSWERED),
                       CallbackRetryLater(1, 30.0), StartTimer(CALLBACK_RETRY_TIMER, 30.0)]
    assert m.callback is CallbackPhase.RETRY and m.callback_tries == 1
    # The pause holds: a freed member does not start the next try early.
    assert m.handle(LineMoved(now=at(50))) == []
    m.handle(LegEnded(A, 16, now=at(43)))
    # The next try may ring A again.
    assert m.handle(CallbackRetryDue(now=at(72))) == [FetchCandidates(exclude=frozenset())]
    assert m.handle(CandidatesFetched((cand(A),), now=at(72)))[0] == Dial(A, 20)


def test_every_try_unanswered_the_request_goes_to_the_to_call_back_list() -> None:
    m = requested()
    accepted(m)
    m.handle(CallbackEnded(17, now=at(25)))  # busy
    m.handle(LegEnded(A, 16, now=at(25)))
    m.handle(CallbackRetryDue(now=at(55)))
    m.handle(CandidatesFetched((cand(A),), now=at(55)))
    m.handle(LegAnswered(A, now=at(56)))
    m.handle(LegDigit(A, "1", now=at(57)))
    actions = m.handle(CallbackRingTimeout(now=at(77)))
    assert actions == [HangupCaller(), HangupLeg(A), RecordAttempt(A, AttemptResult.CALLBACK_UNANSWERED),
                       LeaveLine(), FinishCall(CallOutcome.CALLBACK_FAILED, None, 77.0, None)]
    assert m.finished and m.callback_tries == 2
    assert CallOutcome.CALLBACK_FAILED in MISSED_OUTCOMES


def test_the_member_hangs_up_while_the_caller_rings_the_request_looks_again() -> None:
    m = requested()
    accepted(m)
    actions = m.handle(LegEnded(A, 16, now=at(25)))
    assert actions == [CancelTimer(CALLBACK_RING_TIMER), HangupCaller(),
                       RecordAttempt(A, AttemptResult.CANCELLED), FetchCandidates(exclude=frozenset({A}))]
    assert m.callback is CallbackPhase.WAITING and m.callback_tries == 0
    # The callback's channel ending after that is no try of the caller's.
    assert m.handle(CallbackEnded(16, now=at(25.1))) == []


def test_ring_all_the_other_members_stop_when_one_accepts() -> None:
    m, _ = waiting(strategy="ring_all")
    m.handle(CallerDigit("5", now=at(5)))
    m.handle(LineMoved(now=at(20)))
    m.handle(CandidatesFetched((cand(A), cand(B)), now=at(20)))
    m.handle(LegAnswered(A, now=at(21)))
    m.handle(LegAnswered(B, now=at(21)))
    actions = m.handle(LegDigit(A, "1", now=at(22)))
    # The caller still heard their confirmation: that call ends before they are called back.
    assert TellTooLate(B) in actions and RecordAttempt(B, AttemptResult.TOO_LATE) in actions
    assert actions.index(HangupCaller()) < actions.index(CallBack(A, 20))


def test_a_request_waits_whatever_the_team_rule_for_nobody_available() -> None:
    m = requested()
    m.handle(LineMoved(now=at(20)))
    assert m.handle(CandidatesFetched((), LineView(available=0), now=at(20))) == []
    assert m.callback is CallbackPhase.WAITING and not m.finished


def test_the_runner_fails_the_caller_is_hung_up_not_sent_to_the_fallback() -> None:
    m = requested()
    accepted(m)
    actions = m.handle(RunnerStopped(StopReason.RUNNER_FAILED, now=at(30)))
    assert actions == [HangupLeg(A), RecordAttempt(A, AttemptResult.FAILED), HangupCaller(),
                       LeaveLine(), CancelTimer(CALLBACK_RING_TIMER),
                       FinishCall(CallOutcome.CALLBACK_FAILED, None, None, None)]
    # The database away: the request is still one to call back, never "sent on".
    away = requested()
    assert away.handle(RunnerStopped(StopReason.DATABASE_UNAVAILABLE, now=at(30)))[-1] == FinishCall(
        CallOutcome.CALLBACK_FAILED, None, None, None)


def test_the_daemon_stops_the_request_is_kept_and_its_next_start_resumes_it() -> None:
    m = requested()
    accepted(m)  # A holds, the caller's phone rings
    actions = m.handle(RunnerStopped(StopReason.DAEMON_STOPPING, now=at(30)))
    assert actions == [HangupLeg(A), RecordAttempt(A, AttemptResult.FAILED), HangupCaller(),
                       CancelTimer(CALLBACK_RING_TIMER), KeepCallbackRequest(0)]
    assert m.finished and m.outcome is None  # the call stays open, in its line
    resumed = CallMachine(m.call_id, policy(), rng=random.Random(1), rr_position=None)
    started = resumed.handle(CallerEntered(callback_allowed=True, resumed_callback_tries=1, now=at(0)))
    assert started == [JoinLine(at(0)), FetchCandidates(exclude=frozenset())]
    assert resumed.callback is CallbackPhase.WAITING and resumed.callback_tries == 1
    assert MAX_WAIT_TIMER not in resumed.timers
    resumed.handle(CandidatesFetched((cand(A),), now=at(40)))
    resumed.handle(LegAnswered(A, now=at(41)))
    resumed.handle(LegDigit(A, "1", now=at(42)))
    # One try was left of two: this one unanswered ends it.
    assert resumed.handle(CallbackEnded(17, now=at(45)))[-1] == FinishCall(
        CallOutcome.CALLBACK_FAILED, None, 45.0, None)


def test_with_a_greeting_the_offer_follows_it_and_a_caller_who_asked_hears_nothing_more() -> None:
    from teamfoned.routing import GreetingFinished, PlayGreeting, StartRinging

    m = CallMachine(uuid.uuid4(), policy(greeting=True), rng=random.Random(1), rr_position=None)
    assert PlayGreeting() in m.handle(CallerEntered(callback_allowed=True, now=at(0)))
    # Everybody busy while the greeting plays: the caller waits, the offer waits for its end.
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(1))) == [JoinLine(at(0))]
    assert m.handle(GreetingFinished(now=at(3))) == [OfferCallback("5")]
    # A caller who knows the key and asks while the greeting still plays: when it ends, they
    # hear neither ringing nor the offer (the confirmation, then they are hung up).
    m2 = CallMachine(uuid.uuid4(), policy(greeting=True), rng=random.Random(1), rr_position=None)
    m2.handle(CallerEntered(callback_allowed=True, now=at(0)))
    m2.handle(CandidatesFetched((), LineView(available=1), now=at(1)))
    assert ConfirmCallback() in m2.handle(CallerDigit("5", now=at(2)))
    assert m2.handle(GreetingFinished(now=at(3))) == []
    assert StartRinging() not in m2.handle(AnnouncementFinished(now=at(3)))


def test_a_resumed_request_whose_number_may_no_longer_be_dialled_rings_no_member() -> None:
    m = CallMachine(uuid.uuid4(), policy(), rng=random.Random(1), rr_position=None)
    actions = m.handle(CallerEntered(callback_allowed=False, resumed_callback_tries=1, now=at(0)))
    assert not any(isinstance(a, FetchCandidates | Dial) for a in actions)
    assert [a.outcome for a in actions if isinstance(a, FinishCall)] == [CallOutcome.CALLBACK_FAILED]

"""Call confirmation in the call machine: a person must press the accept key before the caller is bridged."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.routing import (
    AskConfirmation,
    AttemptResult,
    Bridge,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    CallOutcome,
    CancelTimer,
    Candidate,
    CandidatesFetched,
    ConfirmTimeout,
    Dial,
    FetchCandidates,
    FinishCall,
    HangupCaller,
    HangupLeg,
    LegAnswered,
    LegDigit,
    LegEnded,
    LegState,
    MarkUnavailableIfMissed,
    PromptFinished,
    RecordAnswer,
    RecordAttempt,
    StartTimer,
    TeamPolicy,
    TellTooLate,
    TooLateDone,
    confirm_timer,
    timer_fired,
    too_late_timer,
)
from teamfoned.routing.call import PROMPT_LIMIT_SECONDS

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def machine(strategy="linear", confirm=True, auto_unavailable_after=None) -> CallMachine:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=0,
                        confirm_calls=confirm, confirm_time=8, too_late_seconds=3,
                        auto_unavailable_after=auto_unavailable_after)
    m = CallMachine(uuid.uuid4(), policy, rng=random.Random(1), rr_position=None)
    m.handle(CallerEntered(now=at(0)))
    return m


def offer(m: CallMachine, *members: uuid.UUID, external=True, now=1.0):
    cands = tuple(Candidate(x, x.int, None, 0, external=external) for x in members)
    return m.handle(CandidatesFetched(cands, now=at(now)))


def records(actions) -> list[tuple[uuid.UUID, AttemptResult]]:
    return [(a.member_id, a.result) for a in actions if isinstance(a, RecordAttempt)]


def test_an_answered_mobile_leg_is_asked_to_confirm_and_the_caller_waits():
    m = machine()
    offer(m, A)
    actions = m.handle(LegAnswered(A, now=at(3)))
    assert AskConfirmation(A) in actions
    # Until the prompt has played, only its own limit runs.
    assert StartTimer(confirm_timer(A), PROMPT_LIMIT_SECONDS + 8) in actions
    assert not any(isinstance(a, (Bridge, RecordAnswer)) for a in actions)
    assert m.legs[A].state is LegState.CONFIRMING


def test_the_time_to_press_the_key_counts_from_the_end_of_the_prompt():
    m = machine()
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    # Saying the team number took 11 s, longer than the confirmation time itself.
    assert m.handle(PromptFinished(A, now=at(14))) == [StartTimer(confirm_timer(A), 8)]
    actions = m.handle(LegDigit(A, "1", now=at(20)))
    assert RecordAnswer(A) in actions and actions[-1] == Bridge(A)


def test_a_prompt_end_after_the_confirmation_changes_nothing():
    m = machine()
    offer(m, A, B)
    m.handle(LegAnswered(A, now=at(3)))
    m.handle(LegDigit(A, "1", now=at(4)))
    assert m.handle(PromptFinished(A, now=at(5))) == []
    assert m.handle(PromptFinished(B, now=at(5))) == []


def test_a_lost_prompt_end_still_ends_the_confirmation():
    m = machine()
    offer(m, A, B)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(ConfirmTimeout(A, now=at(3 + PROMPT_LIMIT_SECONDS + 8)))
    assert HangupLeg(A) in actions
    assert m.legs[A].result is AttemptResult.CONFIRM_TIMEOUT


def test_the_accept_key_bridges_the_caller():
    m = machine()
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(LegDigit(A, "1", now=at(5)))
    assert RecordAnswer(A) in actions and actions[-1] == Bridge(A)
    assert m.answered_by == A
    # Wait time runs until the member accepted, not until their phone answered.
    finish = m.handle(CallerHungUp(now=at(65)))[-1]
    assert isinstance(finish, FinishCall) and finish.wait_seconds == 5 and finish.talk_seconds == 60


def test_another_key_declines_and_the_hunt_goes_on():
    m = machine()
    offer(m, A, B)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(LegDigit(A, "2", now=at(4)))
    assert HangupLeg(A) in actions
    assert records(actions) == [(A, AttemptResult.DECLINED)]
    assert isinstance(actions[-1], FetchCandidates) and A in actions[-1].exclude


def test_no_key_in_time_is_a_confirm_timeout_like_a_voicemail_box():
    m = machine()
    offer(m, A)
    m.handle(LegAnswered(A, now=at(1.2)))
    expired = timer_fired(confirm_timer(A), now=at(9.2))
    assert expired == ConfirmTimeout(A, now=at(9.2))
    actions = m.handle(expired)
    assert HangupLeg(A) in actions and records(actions) == [(A, AttemptResult.CONFIRM_TIMEOUT)]
    assert isinstance(actions[-1], FetchCandidates)


def test_hanging_up_during_the_prompt_is_a_decline():
    m = machine()
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(LegEnded(A, 16, now=at(4)))
    assert records(actions) == [(A, AttemptResult.DECLINED)]


def test_ring_all_second_to_confirm_is_told_too_late():
    m = machine(strategy="ring_all")
    offer(m, A, B, C)
    m.handle(LegAnswered(A, now=at(3)))
    m.handle(LegAnswered(B, now=at(3.5)))
    # While both confirm, C still rings: nobody has taken the call yet.
    assert m.legs[C].state is LegState.DIALLING
    actions = m.handle(LegDigit(B, "1", now=at(5)))
    assert TellTooLate(A) in actions
    assert sorted(records(actions)) == [(A, AttemptResult.TOO_LATE), (C, AttemptResult.CANCELLED)]
    assert HangupLeg(C, answered_elsewhere=True) in actions and actions[-1] == Bridge(B)
    assert HangupLeg(A) not in actions and HangupLeg(A, answered_elsewhere=True) not in actions
    # A's key press after that changes nothing.
    assert m.handle(LegDigit(A, "1", now=at(6))) == []


def test_desk_phones_and_teams_without_confirmation_are_bridged_at_once():
    for m, external in ((machine(confirm=True), False), (machine(confirm=False), True)):
        offer(m, A, external=external)
        actions = m.handle(LegAnswered(A, now=at(3)))
        assert actions[-1] == Bridge(A)
        assert not any(isinstance(a, AskConfirmation) for a in actions)


def test_caller_hanging_up_during_confirmation_cancels_the_leg():
    m = machine()
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(CallerHungUp(now=at(4)))
    assert HangupLeg(A) in actions and records(actions) == [(A, AttemptResult.CANCELLED)]
    assert actions[-1].outcome == "abandoned"
    assert m.timers == frozenset()


def test_dial_is_unchanged_by_confirmation():
    m = machine()
    assert Dial(A, 20) in offer(m, A)


def too_late(strategy="ring_all") -> CallMachine:
    """A ring_all call where B took it while A was still confirming."""
    m = machine(strategy=strategy)
    offer(m, A, B)
    m.handle(LegAnswered(A, now=at(3)))
    m.handle(LegAnswered(B, now=at(3.5)))
    m.handle(LegDigit(B, "1", now=at(5)))
    return m


def test_too_late_member_hears_the_message_before_the_machine_hangs_them_up():
    m = machine(strategy="ring_all")
    offer(m, A, B)
    m.handle(LegAnswered(A, now=at(3)))
    m.handle(LegAnswered(B, now=at(3.5)))
    actions = m.handle(LegDigit(B, "1", now=at(5)))
    told = actions.index(TellTooLate(A))
    assert actions[told:told + 3] == [
        TellTooLate(A),
        StartTimer(too_late_timer(A), 3),
        RecordAttempt(A, AttemptResult.TOO_LATE),
    ]
    assert HangupLeg(A) not in actions  # not cut off mid-sentence
    assert m.timers == {too_late_timer(A)}
    assert m.handle(timer_fired(too_late_timer(A), now=at(8))) == [HangupLeg(A)]
    assert m.handle(TooLateDone(A, now=at(8))) == []  # once
    assert m.handle(LegEnded(A, 16, now=at(8.1))) == []


def test_too_late_member_who_hangs_up_first_needs_no_hang_up():
    m = too_late()
    assert m.handle(LegEnded(A, 16, now=at(6))) == [CancelTimer(too_late_timer(A))]
    assert m.handle(TooLateDone(A, now=at(8))) == []


def test_call_ending_while_a_member_hears_too_late_hangs_them_up_first():
    m = too_late()
    assert m.handle(LegEnded(B, 16, now=at(6))) == [
        HangupCaller(),
        RecordAttempt(B, AttemptResult.ANSWERED),
        HangupLeg(A),
        CancelTimer(too_late_timer(A)),
        FinishCall(CallOutcome.ANSWERED, B, 5.0, 1.0),
    ]
    assert m.timers == frozenset()


def test_a_confirmation_that_times_out_counts_towards_auto_unavailable():
    m = machine(auto_unavailable_after=2)
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    actions = m.handle(ConfirmTimeout(A, now=at(11)))
    record = actions.index(RecordAttempt(A, AttemptResult.CONFIRM_TIMEOUT))
    assert actions[record + 1] == MarkUnavailableIfMissed(A, 2)
    # A decline is a person's answer: it does not count.
    m = machine(auto_unavailable_after=2)
    offer(m, A)
    m.handle(LegAnswered(A, now=at(3)))
    assert not any(isinstance(a, MarkUnavailableIfMissed) for a in m.handle(LegDigit(A, "2", now=at(4))))

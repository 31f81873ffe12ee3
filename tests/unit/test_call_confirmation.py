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
    Candidate,
    CandidatesFetched,
    ConfirmTimeout,
    Dial,
    FetchCandidates,
    FinishCall,
    HangupLeg,
    LegAnswered,
    LegDigit,
    LegEnded,
    LegState,
    RecordAnswer,
    RecordAttempt,
    StartTimer,
    TeamPolicy,
    TellTooLate,
    confirm_timer,
    timer_fired,
)

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def machine(strategy="linear", confirm=True) -> CallMachine:
    policy = TeamPolicy(strategy=strategy, ring_time=20, max_wait=120, wrap_up=0,
                        confirm_calls=confirm, confirm_time=8)
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
    assert StartTimer(confirm_timer(A), 8) in actions
    assert not any(isinstance(a, (Bridge, RecordAnswer)) for a in actions)
    assert m.legs[A].state is LegState.CONFIRMING


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
    assert HangupLeg(C) in actions and actions[-1] == Bridge(B)
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

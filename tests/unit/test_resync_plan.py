"""plan_resync: every open call left by a restart is adopted, sent to the fallback or closed, exactly once."""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.routing.model import OpenAttempt, OpenCallState
from teamfoned.telephony.resync import (
    Adopt,
    CallerToFallback,
    CloseAttempt,
    CloseCall,
    DestroyBridge,
    HangupChannel,
    ResumeCallback,
    plan_resync,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def call(*attempts, answered_at=None, channel="caller"):
    return OpenCallState(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), channel, "+3120555100",
                         NOW - timedelta(seconds=30), answered_at, tuple(attempts))


def attempt(channel, answered_at=None):
    return OpenAttempt(uuid.uuid4(), uuid.uuid4(), channel, answered_at)


def test_talking_pair_in_our_bridge_is_adopted_and_other_legs_end():
    talking = attempt("leg1", NOW - timedelta(seconds=20))
    ringing = attempt("leg2")
    c = call(talking, ringing, answered_at=talking.answered_at)
    actions = plan_resync([c], channels={"caller", "leg1", "leg2"}, in_app={"caller", "leg1"},
                          bridges={"teamfoned-x": ["caller", "leg1"]}, now=NOW)
    assert actions == [Adopt(c, talking, "teamfoned-x"), HangupChannel("leg2", "stray_member_leg"),
                       CloseAttempt(ringing.attempt_id, "cancelled")]


def test_waiting_caller_goes_to_fallback_and_ringing_leg_is_hung_up():
    ringing = attempt("leg1")
    c = call(ringing)
    actions = plan_resync([c], channels={"caller", "leg1"}, in_app={"caller"}, bridges={}, now=NOW)
    assert actions == [
        HangupChannel("leg1", "stray_member_leg"),
        CloseAttempt(ringing.attempt_id, "cancelled"),
        CallerToFallback("caller", "3120555100"),
        CloseCall(c.call_id, "fallback", 30.0, None),
    ]


def test_caller_gone_unanswered_is_abandoned():
    c = call(attempt("leg1"))
    actions = plan_resync([c], channels=set(), in_app=set(), bridges={}, now=NOW)
    assert actions[-1] == CloseCall(c.call_id, "abandoned", 30.0, None)
    assert not any(isinstance(a, HangupChannel) for a in actions)


def test_answered_call_whose_member_left_ends_the_caller_and_counts_talk_time():
    answered = NOW - timedelta(seconds=20)
    a = attempt("leg1", answered)
    c = call(a, answered_at=answered)
    actions = plan_resync([c], channels={"caller"}, in_app={"caller"},
                          bridges={"teamfoned-x": ["caller"]}, now=NOW)
    assert CloseAttempt(a.attempt_id, "answered") in actions
    assert HangupChannel("caller", "partner_gone") in actions
    assert CloseCall(c.call_id, "answered", 10.0, 20.0) in actions
    assert DestroyBridge("teamfoned-x") in actions


def test_caller_already_in_the_dialplan_is_left_there():
    c = call()
    actions = plan_resync([c], channels={"caller"}, in_app=set(), bridges={}, now=NOW)
    assert actions == [CloseCall(c.call_id, "fallback", 30.0, None)]


def test_calls_owned_by_a_running_runner_are_left_alone():
    c = call(attempt("leg1"))
    actions = plan_resync([c], channels={"caller", "leg1"}, in_app={"caller"},
                          bridges={"teamfoned-y": ["caller", "leg1"]}, tracked={"caller", "leg1"}, now=NOW)
    assert actions == []


def test_every_call_closed_once_and_every_attempt_once():
    calls = [call(attempt(f"l{i}"), attempt(f"m{i}"), channel=f"c{i}") for i in range(5)]
    actions = plan_resync(calls, channels={"c0", "l1", "c2", "m3"}, in_app={"c0", "c2"},
                          bridges={}, now=NOW)
    closed = [a.call_id for a in actions if isinstance(a, CloseCall)]
    assert sorted(closed) == sorted(c.call_id for c in calls)
    closed_attempts = [a.attempt_id for a in actions if isinstance(a, CloseAttempt)]
    assert len(closed_attempts) == len(set(closed_attempts)) == 10


def test_a_callback_request_left_by_a_restart_is_resumed_once_its_legs_end():
    holding = attempt("leg1")
    c = dataclasses.replace(call(holding), caller_number="+31201234502", callback_tries=1)
    actions = plan_resync([c], channels={"leg1"}, in_app=set(), bridges={}, now=NOW)
    assert actions == [HangupChannel("leg1", "stray_member_leg"),
                       CloseAttempt(holding.attempt_id, "cancelled"), ResumeCallback(c)]
    # The caller still hearing the request's confirmation is hung up, as they were told.
    hearing = dataclasses.replace(call(), callback_tries=0)
    assert plan_resync([hearing], channels={"caller"}, in_app={"caller"}, bridges={}, now=NOW) == [
        HangupChannel("caller", "callback_requested"), ResumeCallback(hearing)]

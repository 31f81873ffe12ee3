"""Dial()'s DIALSTATUS for a wave becomes the call machine's events, one result for every leg of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from teamfoned.agi.dialstatus import dial_events
from teamfoned.routing.events import CallerHungUp, LegAnswered, LegEnded, RingTimeout

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
A, B = sorted([uuid.uuid4(), uuid.uuid4()])


def events(status: str, answered_by=None, *, already=False, seconds=None):
    return dial_events(status, ringing={A, B}, answered_by=answered_by, already_answered=already,
                       answered_seconds=seconds, now=NOW)


def test_no_answer_is_every_leg_ringing_out() -> None:
    assert events("NOANSWER") == [RingTimeout(A, now=NOW), RingTimeout(B, now=NOW)]


def test_busy_and_unreachable_carry_their_causes() -> None:
    assert events("BUSY") == [LegEnded(A, 17, now=NOW), LegEnded(B, 17, now=NOW)]
    assert events("CHANUNAVAIL") == [LegEnded(A, 3, now=NOW), LegEnded(B, 3, now=NOW)]
    assert events("CONGESTION")[0] == LegEnded(A, 34, now=NOW)


def test_an_answer_heard_of_only_now_is_dated_by_answered_time() -> None:
    assert events("ANSWER", B, seconds=30) == [LegAnswered(B, now=NOW - timedelta(seconds=30)),
                                              LegEnded(B, 16, now=NOW)]
    assert events("ANSWER", B, already=True) == [LegEnded(B, 16, now=NOW)]


def test_caller_gone_and_nonsense() -> None:
    assert events("CANCEL") == [CallerHungUp(now=NOW)]
    # An answer nobody can place, or a status Dial never sends, fails the legs: never a guess.
    assert events("ANSWER") == [LegEnded(A, None, now=NOW), LegEnded(B, None, now=NOW)]
    assert events("BOGUS") == [LegEnded(A, None, now=NOW), LegEnded(B, None, now=NOW)]

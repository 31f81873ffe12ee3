"""What a caller hears, as the call machine decides it: ringing or music, the greeting first, their place never over it."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from teamfoned.routing import (
    ANNOUNCE_TIMER,
    MAX_WAIT_TIMER,
    AnnounceDue,
    AnnouncementFinished,
    AnnouncePosition,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    Candidate,
    CandidatesFetched,
    FetchCandidates,
    GreetingFinished,
    JoinLine,
    LegAnswered,
    LineView,
    PlayGreeting,
    StartMusic,
    StartRinging,
    StartTimer,
    TeamPolicy,
    WaitingSound,
)
from teamfoned.routing.expected_wait import expected_wait_minutes
from teamfoned.routing.model import TeamRoute

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
A = uuid.UUID(int=1)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def machine(**policy: Any) -> CallMachine:
    base = TeamPolicy(strategy="linear", ring_time=20, max_wait=120, wrap_up=0)
    return CallMachine(uuid.uuid4(), dataclasses.replace(base, **policy), rng=random.Random(1),
                       rr_position=None)


def test_music_plays_from_the_start_and_again_after_each_announcement() -> None:
    m = machine(waiting_sound=WaitingSound.MUSIC, announce_position_every=30.0)
    assert m.handle(CallerEntered(now=at(0))) == [
        StartMusic(), StartTimer(MAX_WAIT_TIMER, 120), FetchCandidates(frozenset())]
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(1))) == [
        JoinLine(at(0)), AnnouncePosition(), StartTimer(ANNOUNCE_TIMER, 30)]
    assert m.handle(AnnouncementFinished(now=at(4))) == [StartMusic()]
    assert m.handle(AnnounceDue(now=at(31))) == [AnnouncePosition(), StartTimer(ANNOUNCE_TIMER, 30)]
    assert m.handle(AnnouncementFinished(now=at(34))) == [StartMusic()]


def test_ringing_is_the_default_waiting_sound() -> None:
    m = machine()
    assert m.handle(CallerEntered(now=at(0)))[0] == StartRinging()


def test_the_greeting_plays_once_first_and_the_waiting_sound_follows_it() -> None:
    m = machine(greeting=True, waiting_sound=WaitingSound.MUSIC)
    assert m.handle(CallerEntered(now=at(0))) == [
        PlayGreeting(), StartTimer(MAX_WAIT_TIMER, 120), FetchCandidates(frozenset())]
    assert m.handle(GreetingFinished(now=at(3))) == [StartMusic()]
    assert m.handle(GreetingFinished(now=at(4))) == []  # once: a late duplicate changes nothing
    rings = machine(greeting=True)
    rings.handle(CallerEntered(now=at(0)))
    assert rings.handle(GreetingFinished(now=at(3))) == [StartRinging()]


def test_a_place_due_during_the_greeting_is_told_when_the_greeting_has_played() -> None:
    m = machine(greeting=True, waiting_sound=WaitingSound.MUSIC, announce_position_every=10.0)
    m.handle(CallerEntered(now=at(0)))
    # Every member busy: the caller joins the line while the greeting still plays.
    assert m.handle(CandidatesFetched((), LineView(available=1), now=at(0.1))) == [
        JoinLine(at(0)), StartTimer(ANNOUNCE_TIMER, 10)]
    assert m.handle(GreetingFinished(now=at(2))) == [AnnouncePosition()]
    assert m.handle(AnnouncementFinished(now=at(5))) == [StartMusic()]


def test_a_greeting_longer_than_the_announcement_interval_is_not_talked_over() -> None:
    m = machine(greeting=True, announce_position_every=10.0)
    m.handle(CallerEntered(now=at(0)))
    m.handle(CandidatesFetched((), LineView(available=1), now=at(0.1)))
    assert m.handle(AnnounceDue(now=at(10))) == [StartTimer(ANNOUNCE_TIMER, 10)]
    assert m.handle(GreetingFinished(now=at(12))) == [AnnouncePosition()]


def test_a_member_who_answers_during_the_greeting_ends_it_and_nothing_follows() -> None:
    m = machine(greeting=True, waiting_sound=WaitingSound.MUSIC)
    m.handle(CallerEntered(now=at(0)))
    m.handle(CandidatesFetched((Candidate(A, 1, None, 0),), now=at(0.1)))
    m.handle(LegAnswered(A, now=at(1)))
    assert m.handle(GreetingFinished(now=at(1.1))) == []
    gone = machine(greeting=True)
    gone.handle(CallerEntered(now=at(0)))
    gone.handle(CallerHungUp(now=at(1)))
    assert gone.handle(GreetingFinished(now=at(1.1))) == []


def test_the_expected_wait_rides_with_the_position_when_the_team_asks_for_it() -> None:
    m = machine(announce_position_every=30.0, announce_expected_wait=True)
    m.handle(CallerEntered(now=at(0)))
    actions = m.handle(CandidatesFetched((), LineView(available=1), now=at(1)))
    assert AnnouncePosition(expected_wait=True) in actions


def test_the_route_gives_the_policy_its_sounds_and_reads_an_unknown_sound_as_ringing() -> None:
    route = TeamRoute(uuid.uuid4(), uuid.uuid4(), "desk", "Desk", "linear", 20.0, 60.0, 0.0, False,
                      "dialplan", None, None, waiting_sound="music", greeting="welcome",
                      announce_expected_wait=True)
    policy = route.policy(confirm_time=10, too_late_seconds=2)
    assert (policy.waiting_sound, policy.greeting, policy.announce_expected_wait) == (
        WaitingSound.MUSIC, True, True)
    odd = TeamRoute(uuid.uuid4(), uuid.uuid4(), "desk", "Desk", "linear", 20.0, 60.0, 0.0, False,
                    "dialplan", None, None, waiting_sound="jazz")
    assert odd.policy(confirm_time=10, too_late_seconds=2).waiting_sound is WaitingSound.RINGING


def test_the_expected_wait_is_the_median_in_minutes_once_there_are_five_waits() -> None:
    assert expected_wait_minutes([300.0] * 4) is None
    assert expected_wait_minutes([60, 120, 180, 240, 3000]) == 3  # one long wait does not count
    assert expected_wait_minutes([10, 20, 25, 5, 12]) == 0  # under half a minute
    assert expected_wait_minutes([90] * 5) == 2

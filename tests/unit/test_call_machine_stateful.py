"""Arbitrary event sequences against the call machine: its promises hold whatever arrives.

Events come duplicated, late, reordered and naming members never dialled; the team may be
closed, and the runner may stop at any point; the test keeps its own ledger of what the
machine asked for and checks it after every step.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from teamfoned.routing import (
    ALWAYS_OPEN,
    ANNOUNCE_TIMER,
    MAX_WAIT_TIMER,
    STRATEGIES,
    TIER_TIMER,
    Action,
    AnnounceDue,
    AnnouncementFinished,
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
    Event,
    FallbackFinished,
    FinishCall,
    GreetingFinished,
    HangupLeg,
    JoinLine,
    LeaveLine,
    LegAnswered,
    LegClaimFailed,
    LegDigit,
    LegEnded,
    LegRinging,
    LegState,
    LineMoved,
    LineView,
    MarkUnavailableIfMissed,
    MaxWaitReached,
    OpeningHours,
    RecordAnswer,
    RecordAttempt,
    RingTimeout,
    RunnerStopped,
    StartTimer,
    StopReason,
    TeamPolicy,
    TellTooLate,
    TierDue,
    TooLateDone,
    WaitingSound,
    confirm_timer,
    ring_timer,
    too_late_timer,
)
from teamfoned.routing.model import UNANSWERED_RESULTS

T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
TEAM = [uuid.UUID(int=n) for n in range(1, 5)]
STRANGER = uuid.UUID(int=99)  # never a candidate
members = st.sampled_from([*TEAM, STRANGER])
causes = st.sampled_from([None, 0, 1, 3, 16, 17, 18, 19, 21, 27, 34, 38, 127])
# A holiday on the day of the whole test: the team is closed.
HOLIDAY = OpeningHours((), frozenset({T0.date()}), UTC)
# The outcomes of a call the runner stopped.
STOPPED_OUTCOMES = {CallOutcome.FAILED, CallOutcome.FALLBACK}


class CallMachineUnderAbuse(RuleBasedStateMachine):
    @initialize(
        strategy=st.sampled_from(STRATEGIES),
        rr_position=st.one_of(st.none(), st.integers(0, 5)),
        seed=st.integers(0, 1000),
        confirm=st.booleans(),
        auto_unavailable_after=st.one_of(st.none(), st.integers(1, 3)),
        open_=st.sampled_from([True, True, True, False]),
        wait_when_none_available=st.booleans(),
        announce=st.sampled_from([None, 30.0]),
        next_tier_after=st.sampled_from([None, 10.0]),
        greeting=st.booleans(),
        music=st.booleans(),
    )
    def build(
        self,
        strategy: str,
        rr_position: int | None,
        seed: int,
        confirm: bool,
        auto_unavailable_after: int | None,
        open_: bool,
        wait_when_none_available: bool,
        announce: float | None,
        next_tier_after: float | None,
        greeting: bool,
        music: bool,
    ) -> None:
        policy = TeamPolicy(
            strategy=strategy, ring_time=20, max_wait=120, wrap_up=0, confirm_calls=confirm,
            auto_unavailable_after=auto_unavailable_after,
            wait_when_none_available=wait_when_none_available,
            announce_position_every=announce, next_tier_after=next_tier_after, greeting=greeting,
            waiting_sound=WaitingSound.MUSIC if music else WaitingSound.RINGING,
        )
        self.hours = ALWAYS_OPEN if open_ else HOLIDAY
        self.open = open_
        self.machine = CallMachine(
            uuid.uuid4(), policy, rng=random.Random(seed), rr_position=rr_position
        )
        self.now = T0
        self.entered = False
        self.dialled: Counter[uuid.UUID] = Counter()
        self.recorded: Counter[uuid.UUID] = Counter()
        self.hung_up: set[uuid.UUID] = set()
        self.ended_by_event: set[uuid.UUID] = set()
        self.claim_failures_sent: set[uuid.UUID] = set()
        self.answers_recorded: list[uuid.UUID] = []
        self.bridged: list[uuid.UUID] = []
        self.finishes: list[FinishCall] = []
        self.timers: set[str] = set()
        self.stopped = False
        self.marked: list[uuid.UUID] = []
        self.joined = 0
        self.left = 0

    # -- feeding events, keeping the ledger --------------------------------------------------

    def send(self, event: Event) -> list[Action]:
        finished_before = bool(self.finishes)
        actions = self.machine.handle(event)  # must never raise
        if finished_before:
            assert actions == [], f"actions after FinishCall: {actions}"
        for index, action in enumerate(actions):
            match action:
                case Dial(member_id=m):
                    # Again only after a lost claim (forgotten while the call waited in line).
                    assert not self.dialled[m] or m in self.claim_failures_sent, f"{m} dialled twice"
                    self.dialled[m] += 1
                case JoinLine():
                    assert self.joined == 0, "joined the line twice"
                    self.joined += 1
                case LeaveLine():
                    assert self.joined == 1 and self.left == 0, "left a line it was not in"
                    self.left += 1
                case RecordAttempt(member_id=m):
                    assert self.dialled[m], f"RecordAttempt for {m}, never dialled"
                    self.recorded[m] += 1
                case MarkUnavailableIfMissed(member_id=m, threshold=threshold):
                    # Only right after the member's unanswered RecordAttempt, with the team's threshold.
                    before = actions[index - 1] if index else None
                    assert isinstance(before, RecordAttempt) and before.member_id == m
                    assert before.result in UNANSWERED_RESULTS
                    assert threshold == self.machine.policy.auto_unavailable_after
                    self.marked.append(m)
                case TellTooLate(member_id=m):
                    # Not a hang-up: the machine hangs the leg up once the message has played.
                    assert self.dialled[m], f"too-late for {m}, never dialled"
                case HangupLeg(member_id=m):
                    assert self.dialled[m], f"hang-up for {m}, never dialled"
                    self.hung_up.add(m)
                case RecordAnswer(member_id=m):
                    self.answers_recorded.append(m)
                case Bridge(member_id=m):
                    self.bridged.append(m)
                case StartTimer(name=name):
                    self.timers.add(name)
                case CancelTimer(name=name):
                    assert name in self.timers, f"cancelling {name}, not running"
                    self.timers.discard(name)
                case FinishCall():
                    assert index == len(actions) - 1, (
                        "FinishCall is not the last action"
                    )
                    assert self.left == self.joined, "finished while still in the line"
                    self.finishes.append(action)
        # Every unanswered record is followed by the check when the team sets a threshold.
        if self.machine.policy.auto_unavailable_after:
            unanswered = [
                a.member_id for a in actions
                if isinstance(a, RecordAttempt) and a.result in UNANSWERED_RESULTS
            ]
            assert unanswered == [
                a.member_id for a in actions if isinstance(a, MarkUnavailableIfMissed)
            ]
        return actions

    def tick(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    gaps = st.floats(min_value=0, max_value=30)

    @rule(gap=gaps)
    def caller_entered(self, gap: float) -> None:
        self.send(CallerEntered(self.hours, now=self.tick(gap)))
        self.entered = True

    @rule(
        gap=gaps,
        offered=st.lists(st.sampled_from(TEAM), max_size=5),
        priorities=st.randoms(),
    )
    def candidates_fetched(
        self, gap: float, offered: list[uuid.UUID], priorities: random.Random
    ) -> None:
        candidates = tuple(
            Candidate(
                m, priorities.randint(0, 3), None, priorities.randint(0, 2),
                external=priorities.random() < 0.8, tier=priorities.randint(1, 3),
            )
            for m in offered
        )
        line = LineView(ahead=priorities.randint(0, 2), available=priorities.randint(0, 3),
                        unknown=priorities.random() < 0.2,
                        first_tier=priorities.choice([None, 1, 2, 3]))
        self.send(CandidatesFetched(candidates, line, now=self.tick(gap)))

    @rule(gap=gaps)
    def line_moved(self, gap: float) -> None:
        self.send(LineMoved(now=self.tick(gap)))

    @rule(gap=gaps)
    def announce_due(self, gap: float) -> None:
        self.timers.discard(ANNOUNCE_TIMER)
        self.send(AnnounceDue(now=self.tick(gap)))

    @rule(gap=gaps)
    def tier_due(self, gap: float) -> None:
        self.timers.discard(TIER_TIMER)
        self.send(TierDue(now=self.tick(gap)))

    @rule(gap=gaps)
    def announcement_finished(self, gap: float) -> None:
        self.send(AnnouncementFinished(now=self.tick(gap)))

    @rule(gap=gaps)
    def greeting_finished(self, gap: float) -> None:
        self.send(GreetingFinished(now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def leg_claim_failed(self, gap: float, member: uuid.UUID) -> None:
        self.claim_failures_sent.add(member)
        self.send(LegClaimFailed(member, now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def leg_ringing(self, gap: float, member: uuid.UUID) -> None:
        self.send(LegRinging(member, now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def leg_answered(self, gap: float, member: uuid.UUID) -> None:
        self.send(LegAnswered(member, now=self.tick(gap)))

    @rule(gap=gaps, member=members, cause=causes)
    def leg_ended(self, gap: float, member: uuid.UUID, cause: int | None) -> None:
        self.ended_by_event.add(member)
        self.send(LegEnded(member, cause, now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def ring_timeout(self, gap: float, member: uuid.UUID) -> None:
        # Timers also fire late, after being cancelled: the machine must shrug those off.
        self.timers.discard(ring_timer(member))
        self.send(RingTimeout(member, now=self.tick(gap)))

    @rule(gap=gaps, member=members, digit=st.sampled_from("12#"))
    def leg_digit(self, gap: float, member: uuid.UUID, digit: str) -> None:
        self.send(LegDigit(member, digit, now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def confirm_timeout(self, gap: float, member: uuid.UUID) -> None:
        self.timers.discard(confirm_timer(member))
        self.send(ConfirmTimeout(member, now=self.tick(gap)))

    @rule(gap=gaps, member=members)
    def too_late_done(self, gap: float, member: uuid.UUID) -> None:
        self.timers.discard(too_late_timer(member))
        self.send(TooLateDone(member, now=self.tick(gap)))

    @rule(gap=gaps, reason=st.sampled_from(StopReason), roll=st.integers(0, 4))
    def runner_stopped(self, gap: float, reason: StopReason, roll: int) -> None:
        # One roll in five: the call mostly goes on, so the other rules still reach deep states.
        if roll:
            return
        if not self.finishes:
            self.stopped = True
        self.send(RunnerStopped(reason, now=self.tick(gap)))

    @rule(gap=gaps)
    def max_wait_reached(self, gap: float) -> None:
        self.timers.discard(MAX_WAIT_TIMER)
        self.send(MaxWaitReached(now=self.tick(gap)))

    @rule(gap=gaps)
    def caller_hung_up(self, gap: float) -> None:
        self.send(CallerHungUp(now=self.tick(gap)))

    @rule(gap=gaps)
    def fallback_finished(self, gap: float) -> None:
        self.send(FallbackFinished(now=self.tick(gap)))

    # -- promises ----------------------------------------------------------------------------

    @invariant()
    def each_member_dialled_at_most_once(self) -> None:
        assert all(count == 1 or m in self.claim_failures_sent for m, count in self.dialled.items())
        assert STRANGER not in self.dialled

    @invariant()
    def at_most_one_record_per_leg(self) -> None:
        assert all(count <= 1 for count in self.recorded.values())

    @invariant()
    def at_most_one_finish_and_answer(self) -> None:
        assert len(self.finishes) <= 1
        assert len(self.answers_recorded) <= 1
        assert self.bridged == self.answers_recorded

    @invariant()
    def view_agrees_with_ledger(self) -> None:
        assert self.machine.finished == bool(self.finishes)
        assert self.machine.timers == self.timers
        if self.finishes:
            assert self.machine.outcome == self.finishes[0].outcome

    @invariant()
    def a_finished_call_left_everything_tidy(self) -> None:
        if not self.finishes:
            return
        finish = self.finishes[0]
        assert self.timers == set(), f"timers left running: {self.timers}"
        answered_by = self.answers_recorded[0] if self.answers_recorded else None
        assert finish.answered_by == answered_by
        if self.stopped:
            # The runner broke off: the record keeps no times.
            assert finish.outcome in STOPPED_OUTCOMES
            assert finish.wait_seconds is None and finish.talk_seconds is None
        else:
            assert finish.wait_seconds is not None and finish.wait_seconds >= 0
            assert (finish.talk_seconds is None) == (finish.answered_by is None)
            assert (finish.outcome == "answered") == (answered_by is not None)
        if not self.open and finish.outcome not in STOPPED_OUTCOMES:
            assert finish.outcome is CallOutcome.CLOSED
            assert finish.wait_seconds == 0
        if finish.outcome is CallOutcome.CLOSED:
            assert not self.dialled, "a closed team rang a member"
        for member in self.dialled:
            leg = self.machine.legs.get(member)
            if leg is None or leg.state is LegState.NOT_CLAIMED:
                # Only a claim the runner reported lost is exempt from recording.
                assert member in self.claim_failures_sent
                assert self.recorded[member] == 0
                continue
            assert self.recorded[member] == 1, (
                f"{member} recorded {self.recorded[member]}x"
            )
            # No leg keeps ringing: we hung it up, or its channel was already gone.
            assert member in self.hung_up or member in self.ended_by_event

    def teardown(self) -> None:
        # Whatever happened, a caller hanging up ends a call that is not in its fallback,
        # and the runner stopping ends any call at all.
        if self.entered and not self.finishes and self.machine.state != "fallback":
            self.send(CallerHungUp(now=self.tick(1)))
            assert len(self.finishes) == 1
            self.a_finished_call_left_everything_tidy()
        if not self.finishes:
            self.stopped = True
            self.send(RunnerStopped(StopReason.DAEMON_STOPPING, now=self.tick(1)))
            assert len(self.finishes) == 1
            self.a_finished_call_left_everything_tidy()


CallMachineUnderAbuse.TestCase.settings = settings(
    max_examples=300, stateful_step_count=40, deadline=None
)
TestCallMachineUnderAbuse = CallMachineUnderAbuse.TestCase

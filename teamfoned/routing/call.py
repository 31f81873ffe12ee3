"""One call's routing as a state machine: events in, actions out; contains no I/O whatsoever.

The machine never awaits, never reads a clock (every event carries `now`) and never draws
random numbers of its own (the rng comes in). It decides everything about the call: whether
the team is open, who rings, when a member is made unavailable, how long a too-late member
hears their message, and how a call ends when the runner cannot go on. Its promises, whatever
order events arrive in: every leg that was dialled (and not refused by LegClaimFailed) gets
exactly one RecordAttempt, the call gets exactly one FinishCall, always its last action, and
an event that does not fit the current state -- duplicate, late, out of order, or naming a
member never dialled -- yields no actions.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from teamfoned.routing.actions import (
    Action,
    AnnouncePosition,
    AskConfirmation,
    Bridge,
    CallBack,
    CallbackRetryLater,
    CancelTimer,
    ConfirmCallback,
    Dial,
    FetchCandidates,
    FinishCall,
    HangupCaller,
    HangupLeg,
    JoinLine,
    KeepCallbackRequest,
    LeaveLine,
    MarkUnavailableIfMissed,
    OfferCallback,
    PlayGreeting,
    RecordAnswer,
    RecordAttempt,
    RunFallback,
    SaveRoundRobin,
    StartMusic,
    StartRinging,
    StartTimer,
    TellTooLate,
)
from teamfoned.routing.events import (
    ANNOUNCE_TIMER,
    CALLBACK_CONFIRM_TIMER,
    CALLBACK_RETRY_TIMER,
    CALLBACK_RING_TIMER,
    MAX_WAIT_TIMER,
    TIER_TIMER,
    AnnounceDue,
    AnnouncementFinished,
    CallbackAnswered,
    CallbackConfirmDone,
    CallbackEnded,
    CallbackRetryDue,
    CallbackRingTimeout,
    CallerDigit,
    CallerEntered,
    CallerHungUp,
    CandidatesFetched,
    ConfirmTimeout,
    Event,
    FallbackFinished,
    GreetingFinished,
    LegAnswered,
    LegClaimFailed,
    LegDigit,
    LegEnded,
    LegRinging,
    LineMoved,
    MaxWaitReached,
    PromptFinished,
    RingTimeout,
    RunnerStopped,
    TierDue,
    TooLateDone,
    confirm_timer,
    ring_timer,
    too_late_timer,
)
from teamfoned.routing.model import (
    UNANSWERED_RESULTS,
    AttemptResult,
    CallOutcome,
    Candidate,
    FallbackTarget,
    StopReason,
    TeamPolicy,
    WaitingSound,
    attempt_result_for_cause,
)
from teamfoned.routing.strategies import Strategy, next_wave, validate_strategy
from teamfoned.routing.tiers import WIDENINGS, offered

__all__ = ["CallMachine", "CallState", "CallbackPhase", "LegState", "LegView"]


class CallState(StrEnum):
    """Where the call is. `hunting` covers fetching candidates, ringing them and waiting in
    the team's line for a member to be free (see `in_line`)."""

    WAITING = "waiting"  # built, CallerEntered not seen yet
    HUNTING = "hunting"
    CONNECTED = "connected"
    FALLBACK = "fallback"  # RunFallback sent, waiting for FallbackFinished
    FINISHED = "finished"


class CallbackPhase(StrEnum):
    """Where a callback request is, once the caller asked for one (the call stays `hunting`
    until the caller answers the callback, then it is `connected`)."""

    WAITING = "waiting"  # in the line: members are looked for and rung (with confirmation)
    CALLING = "calling"  # a member accepted and holds; the caller's phone rings
    RETRY = "retry"  # a try went unanswered: the pause before the next one


class LegState(StrEnum):
    """Where one member's leg is."""

    DIALLING = "dialling"  # Dial sent: claim and originate under way
    RINGING = "ringing"
    # Answered, asked to confirm with the accept key; the caller is not bridged yet.
    CONFIRMING = "confirming"
    CONNECTED = "connected"  # answered and bridged with the caller
    # Accepted a callback: holds while the caller's phone rings (the attempt stays open, so
    # the member stays claimed).
    HOLDING = "holding"
    # We hung it up (or are telling it "too late") and recorded its result; its LegEnded
    # has not arrived yet.
    HANGING_UP = "hanging_up"
    ENDED = "ended"  # its channel is gone and its result recorded
    NOT_CLAIMED = "not_claimed"  # LegClaimFailed: never dialled, nothing to record


_RINGING = frozenset({LegState.DIALLING, LegState.RINGING})
# The longest a confirmation prompt may play before the member's time to press the key starts
# anyway (its end-of-playback event lost, or a site's recording far too long).
PROMPT_LIMIT_SECONDS = 30.0
# A confirming leg has no result yet: the hunt waits for it like for a ringing one.
_IN_PROGRESS = _RINGING | {LegState.CONFIRMING}
_LIVE = _IN_PROGRESS | {LegState.CONNECTED, LegState.HOLDING, LegState.HANGING_UP}
# Legs whose result is not recorded yet: what RunnerStopped records `failed`.
_UNRECORDED = _IN_PROGRESS | {LegState.CONNECTED, LegState.HOLDING}


@dataclass(slots=True)
class _Leg:
    dialled_at: datetime
    ring_time: float
    external: bool = True
    state: LegState = LegState.DIALLING
    result: AttemptResult | None = None
    # A leg we hung up that answers anyway is hung up once more, once.
    hung_up_again: bool = False


@dataclass(frozen=True, slots=True)
class LegView:
    """Read-only view of one leg, for tests and the runner."""

    member_id: uuid.UUID
    state: LegState
    result: AttemptResult | None


class CallMachine:
    """The routing decisions for one call to a team number.

    `CallMachine(call_id, policy, *, rng, rr_position)`: `policy.strategy` is validated here
    (UnknownStrategy); `rng` is used only by the `random` strategy; `rr_position` is the team's
    stored round-robin position. The call starts at CallerEntered's `now`, and events sent
    before CallerEntered are ignored, except RunnerStopped. Feed events to `handle`, carry out
    the returned actions in order.
    """

    def __init__(
        self,
        call_id: uuid.UUID,
        policy: TeamPolicy,
        *,
        rng: random.Random,
        rr_position: int | None,
    ) -> None:
        validate_strategy(policy.strategy)
        self.call_id = call_id
        self.policy = policy
        self._rng = rng
        self._rr_position = rr_position
        self._state = CallState.WAITING
        self._legs: dict[uuid.UUID, _Leg] = {}
        self._timers: set[str] = set()
        self._fetching = False
        self._started_at: datetime | None = None
        self._hunt_ended_at: datetime | None = None
        self._answered_by: uuid.UUID | None = None
        self._answered_at: datetime | None = None
        self._fallback_outcome: CallOutcome | None = None
        self._outcome: CallOutcome | None = None
        # In the team's waiting line since JoinLine, until LeaveLine; `_waiting`: no member
        # is being looked for or rung right now, the call waits for LineMoved.
        self._in_line = False
        self._waiting = False
        # Times the caller's tier went up by waiting (TierDue), up to WIDENINGS.
        self._tier_rounds = 0
        # The team's greeting plays to the caller; a place in the line due meanwhile is told
        # when it has played (never over it).
        self._greeting_playing = False
        self._announce_pending = False
        self._offer_pending = False
        # The callback: offered (the team has a key and the caller's number may be dialled);
        # requested (the phase); how many tries went unanswered; the member holding for the
        # try under way; whether the caller still hears the confirmation on their own call.
        self._callback_offered = False
        self._callback: CallbackPhase | None = None
        self._callback_tries = 0
        self._callback_member: uuid.UUID | None = None
        self._caller_on = False

    # -- read-only view -------------------------------------------------------------------

    @property
    def state(self) -> CallState:
        return self._state

    @property
    def finished(self) -> bool:
        return self._state is CallState.FINISHED

    @property
    def outcome(self) -> CallOutcome | None:
        """The outcome of FinishCall, None until then."""
        return self._outcome

    @property
    def answered_by(self) -> uuid.UUID | None:
        return self._answered_by

    @property
    def rr_position(self) -> int | None:
        return self._rr_position

    @property
    def tried(self) -> frozenset[uuid.UUID]:
        """Members dialled in this call, including lost claims: never offered again."""
        return frozenset(self._legs)

    @property
    def live_legs(self) -> frozenset[uuid.UUID]:
        """Legs whose channel may still exist."""
        return frozenset(m for m, leg in self._legs.items() if leg.state in _LIVE)

    @property
    def ringing_legs(self) -> frozenset[uuid.UUID]:
        """Legs still being dialled or ringing, with no result yet."""
        return frozenset(
            m for m, leg in self._legs.items() if leg.state in _IN_PROGRESS
        )

    @property
    def legs(self) -> Mapping[uuid.UUID, LegView]:
        return MappingProxyType(
            {m: LegView(m, leg.state, leg.result) for m, leg in self._legs.items()}
        )

    @property
    def in_line(self) -> bool:
        """The call has joined the team's waiting line and not left it."""
        return self._in_line

    @property
    def waiting(self) -> bool:
        """In the line with nobody looked for or rung: waiting for LineMoved."""
        return self._waiting

    @property
    def callback(self) -> CallbackPhase | None:
        """The callback request's phase, None while the caller has asked for none."""
        return self._callback

    @property
    def callback_tries(self) -> int:
        """Tries of the callback that went unanswered so far."""
        return self._callback_tries

    @property
    def timers(self) -> frozenset[str]:
        """Timers started and neither cancelled nor expired."""
        return frozenset(self._timers)

    # -- events ---------------------------------------------------------------------------

    def handle(self, event: Event) -> list[Action]:
        """The actions `event` calls for, in the order to carry them out; [] if it does not fit."""
        match event:
            case CallerEntered():
                return self._caller_entered(event)
            case RunnerStopped():
                return self._runner_stopped(event)
            case _ if self._state in (CallState.WAITING, CallState.FINISHED):
                return []
            case CandidatesFetched():
                return self._candidates_fetched(event)
            case LegClaimFailed():
                return self._leg_claim_failed(event)
            case LegRinging():
                return self._leg_ringing(event)
            case LegAnswered():
                return self._leg_answered(event)
            case LegEnded():
                return self._leg_ended(event)
            case RingTimeout():
                return self._ring_timeout(event)
            case MaxWaitReached():
                return self._max_wait_reached(event)
            case CallerHungUp():
                return self._caller_hung_up(event)
            case FallbackFinished():
                return self._fallback_finished(event)
            case LegDigit():
                return self._leg_digit(event)
            case PromptFinished():
                return self._prompt_finished(event)
            case ConfirmTimeout():
                return self._confirm_timeout(event)
            case TooLateDone():
                return self._too_late_done(event)
            case LineMoved():
                return self._line_moved(event)
            case AnnounceDue():
                return self._announce_due(event)
            case AnnouncementFinished():
                # After a callback request the caller hears its confirmation, then is gone.
                return [self._waiting_sound()] if self._state is CallState.HUNTING and self._callback is None else []
            case CallerDigit():
                return self._caller_digit(event)
            case CallbackConfirmDone():
                return self._callback_confirm_done()
            case CallbackAnswered():
                return self._callback_answered(event)
            case CallbackEnded():
                return self._callback_unanswered(event.now, hang_up=False)
            case CallbackRingTimeout():
                return self._callback_ring_timeout(event)
            case CallbackRetryDue():
                return self._callback_retry_due(event)
            case TierDue():
                return self._tier_due(event)
            case GreetingFinished():
                return self._greeting_finished(event)
        return []

    def _caller_entered(self, event: CallerEntered) -> list[Action]:
        if self._state is not CallState.WAITING:
            return []
        self._state = CallState.HUNTING
        self._started_at = event.now
        if event.resumed_callback_tries is not None:
            # This node's callback request, after its restart: the caller is gone, and the
            # request waits in its place (the call's start) for a member, as it did.
            self._callback_offered = True
            self._callback = CallbackPhase.WAITING
            self._callback_tries = event.resumed_callback_tries
            self._in_line = True
            if not event.callback_allowed:
                # The number may no longer be dialled (the sysadmin's countries changed): no
                # member is rung for a call that cannot be made; the team calls back by hand.
                return self._finish(CallOutcome.CALLBACK_FAILED, event.now)
            return [JoinLine(arrived_at=event.now), self._fetch()]
        # Only a caller who can wait in the line, and whose number may be dialled, hears the
        # offer (a withheld or premium number never does; a closed team never gets this far).
        self._callback_offered = (self.policy.callback_key is not None and event.callback_allowed
                                  and self.policy.can_wait)
        if not event.hours.open_at(event.now):
            # Outside opening hours or on a holiday: nobody rings, the closed fallback takes
            # the call from its first moment (so it waited 0 s).
            return self._run_fallback(CallOutcome.CLOSED, event.now, self.policy.closed_fallback)
        if self.policy.greeting:
            # The greeting first; members ring meanwhile, and one who answers cuts it short.
            self._greeting_playing = True
            first: Action = PlayGreeting()
        else:
            first = self._waiting_sound()
        actions: list[Action] = [first, self._start_timer(MAX_WAIT_TIMER, self.policy.max_wait)]
        if self.policy.next_tier_after:
            # Counted from the call's start, like the caller's wait.
            actions.append(self._start_timer(TIER_TIMER, self.policy.next_tier_after))
        return [*actions, self._fetch()]

    def _waiting_sound(self) -> Action:
        """What the caller hears while members ring and in the line: the team's choice."""
        if self.policy.waiting_sound is WaitingSound.MUSIC:
            return StartMusic()
        return StartRinging()

    def _announce(self) -> list[Action]:
        if self._greeting_playing:
            self._announce_pending = True
            return []
        return [AnnouncePosition(expected_wait=self.policy.announce_expected_wait,
                                 callback_key=self._offered_key())]

    def _greeting_finished(self, event: GreetingFinished) -> list[Action]:
        if not self._greeting_playing:
            return []
        self._greeting_playing = False
        pending, self._announce_pending = self._announce_pending, False
        offer, self._offer_pending = self._offer_pending, False
        if self._state is not CallState.HUNTING or self._callback is not None:
            return []  # a caller who asked for a callback hears its confirmation, then is gone
        if pending and self._waiting:
            # Their place came due during the greeting: it follows the greeting at once.
            return self._announce()
        key = self._offered_key()
        if offer and self._waiting and key is not None:
            return [OfferCallback(key)]  # the offer waited for the greeting's end
        return [self._waiting_sound()]

    def _candidates_fetched(self, event: CandidatesFetched) -> list[Action]:
        if self._state is not CallState.HUNTING or not self._fetching:
            return []  # an answer nobody asked for (duplicate or too late)
        self._fetching = False
        # A member is tried at most once per call, even if the store offers them again.
        fresh: dict[uuid.UUID, Candidate] = {}
        for candidate in event.candidates:
            if candidate.member_id not in self._legs:
                fresh.setdefault(candidate.member_id, candidate)
        # Only the tiers the caller has reached are offered (routing.tiers).
        assert self._started_at is not None
        pool = offered(fresh.values(), first_available=event.line.first_tier,
                       waited=(event.now - self._started_at).total_seconds(),
                       next_tier_after=self.policy.next_tier_after)
        # Callers ahead in the line are offered the free members first: this call takes what
        # they leave (the first ones in the store's priority order are theirs).
        pool = pool[event.line.ahead:]
        wave = next_wave(
            self.policy.strategy,
            pool,
            rr_position=self._rr_position,
            rng=self._rng,
        )
        if not wave.members:
            if self.ringing_legs:
                return []  # a leg still rings; its end will ask again
            if self._callback is not None:
                # A callback request waits for a member whatever the team's line rules: the
                # caller is not on the line to be sent anywhere.
                return self._wait()
            lost_claims = any(leg.state is LegState.NOT_CLAIMED for leg in self._legs.values())
            kept = event.line.unknown and self._in_line
            could_wait = event.line.available > 0 or lost_claims or kept or self.policy.wait_when_none_available
            if could_wait and self.policy.can_wait:
                # Someone could take the call later (busy, in wrap-up, taken by a caller ahead,
                # or just claimed by another call), or the team waits for members to come on
                # duty: wait in the line.
                return self._wait()
            return self._run_fallback(CallOutcome.NO_ONE_AVAILABLE, event.now, self.policy.fallback)
        actions: list[Action] = []
        ring_time = self.policy.ring_time
        for candidate in wave.members:
            self._legs[candidate.member_id] = _Leg(
                dialled_at=event.now, ring_time=ring_time, external=candidate.external
            )
            actions.append(Dial(candidate.member_id, ring_time))
            actions.append(
                self._start_timer(ring_timer(candidate.member_id), ring_time)
            )
        if wave.rr_position is not None and wave.rr_position != self._rr_position:
            self._rr_position = wave.rr_position
            actions.append(SaveRoundRobin(wave.rr_position))
        return actions

    def _wait(self) -> list[Action]:
        self._waiting = True
        # A member lost to another call's claim may be free for this one later: in the line
        # only the members this call really rang count as tried.
        for member_id in [m for m, leg in self._legs.items() if leg.state is LegState.NOT_CLAIMED]:
            del self._legs[member_id]
        if self._in_line:
            return []
        self._in_line = True
        assert self._started_at is not None
        actions: list[Action] = [JoinLine(arrived_at=self._started_at)]
        every = self.policy.announce_position_every
        key = self._offered_key()
        if every:
            # Their place at once, then every `every` seconds while they wait (each time with
            # the callback offer, when there is one).
            actions += [*self._announce(), self._start_timer(ANNOUNCE_TIMER, every)]
        elif key is not None and self._greeting_playing:
            self._offer_pending = True  # never over the greeting: it follows its end
        elif key is not None:
            actions.append(OfferCallback(key))
        return actions

    def _offered_key(self) -> str | None:
        """The key that asks for a callback now, None when no callback is on offer."""
        if self._callback_offered and self._callback is None:
            return self.policy.callback_key
        return None

    def _announce_due(self, event: AnnounceDue) -> list[Action]:
        every = self.policy.announce_position_every
        if self._state is not CallState.HUNTING or ANNOUNCE_TIMER not in self._timers or not every:
            return []
        self._timers.discard(ANNOUNCE_TIMER)
        actions: list[Action] = [self._start_timer(ANNOUNCE_TIMER, every)]
        if self._waiting:
            # While a member rings for the caller the round is skipped: the ring may be answered.
            actions[0:0] = self._announce()
        return actions

    def _tier_due(self, event: TierDue) -> list[Action]:
        after = self.policy.next_tier_after
        if self._state is not CallState.HUNTING or TIER_TIMER not in self._timers or not after:
            return []
        self._timers.discard(TIER_TIMER)
        self._tier_rounds += 1
        actions: list[Action] = []
        if self._tier_rounds < WIDENINGS:
            actions.append(self._start_timer(TIER_TIMER, after))
        if self._waiting:
            # The caller's tier widened while they wait: its members are offered now, not only
            # at the next sign that the line moved.
            self._waiting = False
            actions.append(self._fetch())
        elif self.policy.strategy == Strategy.RING_ALL and self.ringing_legs and not self._fetching:
            # ring_all rings every member of the tiers reached: the new tier joins the legs
            # still ringing. A one-leg strategy looks again when its leg ends.
            actions.append(self._fetch())
        return actions

    def _line_moved(self, event: LineMoved) -> list[Action]:
        if self._state is not CallState.HUNTING or not self._waiting:
            return []  # not waiting: a fetch or a ring is under way, its end looks again
        self._waiting = False
        return [self._fetch()]

    def _leave_line(self) -> list[Action]:
        if not self._in_line:
            return []
        self._in_line = False
        self._waiting = False
        return [LeaveLine()]

    def _leg_claim_failed(self, event: LegClaimFailed) -> list[Action]:
        leg = self._legs.get(event.member_id)
        if leg is None or leg.state is not LegState.DIALLING:
            return []
        # Nothing was dialled, so there is no attempt to record; the member stays tried.
        leg.state = LegState.NOT_CLAIMED
        actions = self._cancel_timers([ring_timer(event.member_id)])
        return actions + self._hunt_on()

    def _leg_ringing(self, event: LegRinging) -> list[Action]:
        leg = self._legs.get(event.member_id)
        if leg is not None and leg.state is LegState.DIALLING:
            leg.state = LegState.RINGING
        return []

    def _leg_answered(self, event: LegAnswered) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        if leg is None:
            return []
        if leg.state is LegState.HANGING_UP and not leg.hung_up_again:
            # It answered as we hung it up (ring_all race, ring timeout): its result stands.
            leg.hung_up_again = True
            return [HangupLeg(member_id)]
        if self._state is not CallState.HUNTING or leg.state not in _RINGING:
            return []
        callback = self._callback is not None
        if (self.policy.confirm_calls and leg.external) or callback:
            # A voicemail box answers too: the caller waits until a person presses the key.
            # A callback is always confirmed: the member must know whom they are to talk to.
            leg.state = LegState.CONFIRMING
            actions: list[Action] = self._cancel_timers([ring_timer(member_id)])
            # The member's time to press the key counts from the prompt's end (PromptFinished):
            # saying a team number takes longer than the time to answer it. Until then the
            # prompt's own limit holds, so a lost end-of-prompt event cannot keep them forever.
            actions.append(self._start_timer(confirm_timer(member_id),
                                             PROMPT_LIMIT_SECONDS + self.policy.confirm_time))
            actions.append(AskConfirmation(member_id, callback))
            return actions
        return self._accept(member_id, event.now)

    def _leg_digit(self, event: LegDigit) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        if leg is None or leg.state is not LegState.CONFIRMING:
            return []
        if event.digit == self.policy.accept_key:
            if self._callback is not None:
                return self._callback_accepted(member_id)
            return self._accept(member_id, event.now)
        return self._end_confirmation(member_id, AttemptResult.DECLINED)

    def _prompt_finished(self, event: PromptFinished) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        if leg is None or leg.state is not LegState.CONFIRMING or confirm_timer(member_id) not in self._timers:
            return []
        # Restarted under the same name: the runner replaces the prompt's limit with it.
        return [self._start_timer(confirm_timer(member_id), self.policy.confirm_time)]

    def _confirm_timeout(self, event: ConfirmTimeout) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        name = confirm_timer(member_id)
        if leg is None or leg.state is not LegState.CONFIRMING or name not in self._timers:
            return []
        self._timers.discard(name)
        return self._end_confirmation(member_id, AttemptResult.CONFIRM_TIMEOUT)

    def _end_confirmation(self, member_id: uuid.UUID, result: AttemptResult) -> list[Action]:
        leg = self._legs[member_id]
        leg.state = LegState.HANGING_UP
        leg.result = result
        actions = self._cancel_timers([confirm_timer(member_id)])
        actions += [HangupLeg(member_id), *self._record(member_id, result)]
        return actions + self._hunt_on()

    def _accept(self, member_id: uuid.UUID, now: datetime) -> list[Action]:
        """The member takes the call: bridge them; every other leg stops at once."""
        leg = self._legs[member_id]
        leg.state = LegState.CONNECTED
        self._state = CallState.CONNECTED
        self._answered_by = member_id
        self._answered_at = now
        actions: list[Action] = [RecordAnswer(member_id), *self._leave_line()]
        actions += self._cancel_timers(self._timers)
        actions += self._stop_other_legs()
        actions.append(Bridge(member_id))
        return actions

    def _stop_other_legs(self) -> list[Action]:
        """A member took the call: every other leg stops at once."""
        actions: list[Action] = []
        # Teammates still confirming pressed too late: they are told so, not just cut off; their
        # leg is hung up when the message has played (TooLateDone) or the call ends.
        for other in sorted(m for m, o in self._legs.items() if o.state is LegState.CONFIRMING):
            other_leg = self._legs[other]
            other_leg.state = LegState.HANGING_UP
            other_leg.result = AttemptResult.TOO_LATE
            actions += [
                TellTooLate(other),
                self._start_timer(too_late_timer(other), self.policy.too_late_seconds),
                *self._record(other, AttemptResult.TOO_LATE),
            ]
        actions += self._hang_up_ringing(AttemptResult.CANCELLED, answered_elsewhere=True)
        return actions

    # -- the callback ---------------------------------------------------------------------

    def _caller_digit(self, event: CallerDigit) -> list[Action]:
        key = self._offered_key()
        # Only from the line, with no member ringing for the caller (that ring may be answered).
        if (key is None or event.digit != key or self._state is not CallState.HUNTING
                or not self._in_line or self.ringing_legs):
            return []
        self._callback = CallbackPhase.WAITING
        self._caller_on = True
        # The request keeps the call's place in the line; it has no maximum wait (the caller
        # is not on the line to be sent to the fallback) and hears no more announcements.
        actions = self._cancel_timers([MAX_WAIT_TIMER, ANNOUNCE_TIMER])
        actions += [ConfirmCallback(), self._start_timer(CALLBACK_CONFIRM_TIMER, PROMPT_LIMIT_SECONDS)]
        return actions

    def _callback_confirm_done(self) -> list[Action]:
        if self._callback is None or not self._caller_on:
            return []
        self._caller_on = False
        return [*self._cancel_timers([CALLBACK_CONFIRM_TIMER]), HangupCaller()]

    def _callback_accepted(self, member_id: uuid.UUID) -> list[Action]:
        """A member accepted the callback: they hold, and the caller's phone rings."""
        self._legs[member_id].state = LegState.HOLDING
        self._callback = CallbackPhase.CALLING
        self._callback_member = member_id
        actions = self._cancel_timers([confirm_timer(member_id)])
        actions += self._stop_other_legs()
        if self._caller_on:
            # Still hearing the confirmation of their request: this call of theirs ends now.
            actions += self._callback_confirm_done()
        ring_time = self.policy.ring_time
        actions += [CallBack(member_id, ring_time), self._start_timer(CALLBACK_RING_TIMER, ring_time)]
        return actions

    def _callback_answered(self, event: CallbackAnswered) -> list[Action]:
        if self._callback is not CallbackPhase.CALLING or self._callback_member is None:
            return []
        member_id = self._callback_member
        self._legs[member_id].state = LegState.CONNECTED
        self._state = CallState.CONNECTED
        self._answered_by = member_id
        self._answered_at = event.now
        actions: list[Action] = [RecordAnswer(member_id), *self._leave_line()]
        # Only the callback's own timer and the tiers' (nothing to widen now): teammates told
        # "too late" keep theirs.
        actions += self._cancel_timers([CALLBACK_RING_TIMER, TIER_TIMER])
        actions.append(Bridge(member_id))
        return actions

    def _callback_ring_timeout(self, event: CallbackRingTimeout) -> list[Action]:
        if CALLBACK_RING_TIMER not in self._timers:
            return []
        self._timers.discard(CALLBACK_RING_TIMER)
        return self._callback_unanswered(event.now, hang_up=True)

    def _callback_unanswered(self, now: datetime, *, hang_up: bool) -> list[Action]:
        """The caller did not answer this try: release the member; retry or give up."""
        if self._callback is not CallbackPhase.CALLING or self._callback_member is None:
            return []
        member_id, self._callback_member = self._callback_member, None
        self._callback_tries += 1
        leg = self._legs[member_id]
        leg.state = LegState.HANGING_UP
        leg.result = AttemptResult.CALLBACK_UNANSWERED
        actions = self._cancel_timers([CALLBACK_RING_TIMER])
        if hang_up:
            actions.append(HangupCaller())  # the callback's own channel, still ringing
        actions += [HangupLeg(member_id), RecordAttempt(member_id, leg.result)]
        if self._callback_tries >= self.policy.callback_attempts:
            # Every try went unanswered: the team's "to call back" list has it now.
            self._hunt_ended_at = now
            return actions + self._finish(CallOutcome.CALLBACK_FAILED, now)
        self._callback = CallbackPhase.RETRY
        pause = self.policy.callback_retry_after
        actions += [CallbackRetryLater(self._callback_tries, pause),
                    self._start_timer(CALLBACK_RETRY_TIMER, pause)]
        return actions

    def _callback_retry_due(self, event: CallbackRetryDue) -> list[Action]:
        if self._callback is not CallbackPhase.RETRY or CALLBACK_RETRY_TIMER not in self._timers:
            return []
        self._timers.discard(CALLBACK_RETRY_TIMER)
        self._callback = CallbackPhase.WAITING
        # A new try may offer every member again, those rung for earlier tries included;
        # legs whose end has not arrived yet stay (their channel may still exist).
        for member_id in [m for m, leg in self._legs.items()
                          if leg.state in (LegState.ENDED, LegState.NOT_CLAIMED)]:
            del self._legs[member_id]
        return [self._fetch()]

    def _leg_ended(self, event: LegEnded) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        if leg is None:
            return []
        if leg.state is LegState.HANGING_UP:
            leg.state = LegState.ENDED  # its result was recorded when we hung it up
            # A too-late member who hung up themselves needs no hang-up from us any more.
            return self._cancel_timers([too_late_timer(member_id)])
        if leg.state is LegState.CONNECTED:
            leg.state = LegState.ENDED
            leg.result = AttemptResult.ANSWERED
            actions: list[Action] = [HangupCaller(), *self._record(member_id, leg.result)]
            return actions + self._finish(self._talked(), event.now)
        if leg.state is LegState.HOLDING:
            # The member hung up while the caller's phone rang: that ring stops, and the
            # request looks for a member again (this try is not counted against the caller).
            leg.state = LegState.ENDED
            leg.result = AttemptResult.CANCELLED
            self._callback = CallbackPhase.WAITING
            self._callback_member = None
            actions = self._cancel_timers([CALLBACK_RING_TIMER])
            actions += [HangupCaller(), *self._record(member_id, leg.result)]
            return actions + self._hunt_on()
        if leg.state is LegState.CONFIRMING:
            # The member hung up during the confirmation prompt: a refusal, not a no-answer.
            leg.state = LegState.ENDED
            leg.result = AttemptResult.DECLINED
            actions = self._cancel_timers([confirm_timer(member_id)])
            actions += self._record(member_id, leg.result)
            return actions + self._hunt_on()
        if leg.state not in _IN_PROGRESS:
            return []
        # Our ring timer wins over the cause: an end at or after the ring time is a no-answer
        # whatever the cause says (older Asterisk reports cause 0 when its dial times out).
        if (event.now - leg.dialled_at).total_seconds() >= leg.ring_time:
            result = AttemptResult.NO_ANSWER
        else:
            result = attempt_result_for_cause(event.cause)
        leg.state = LegState.ENDED
        leg.result = result
        actions = self._cancel_timers([ring_timer(member_id)])
        actions += self._record(member_id, result)
        return actions + self._hunt_on()

    def _ring_timeout(self, event: RingTimeout) -> list[Action]:
        member_id = event.member_id
        leg = self._legs.get(member_id)
        name = ring_timer(member_id)
        if leg is None or leg.state not in _IN_PROGRESS or name not in self._timers:
            return []
        self._timers.discard(name)  # it has expired: nothing left to cancel
        leg.state = LegState.HANGING_UP
        leg.result = AttemptResult.NO_ANSWER
        actions: list[Action] = [HangupLeg(member_id), *self._record(member_id, leg.result)]
        return actions + self._hunt_on()

    def _max_wait_reached(self, event: MaxWaitReached) -> list[Action]:
        if self._state is not CallState.HUNTING or MAX_WAIT_TIMER not in self._timers:
            return []
        self._timers.discard(MAX_WAIT_TIMER)
        actions = self._hang_up_ringing(AttemptResult.CANCELLED)
        return actions + self._run_fallback(CallOutcome.TIMED_OUT, event.now, self.policy.fallback)

    def _caller_hung_up(self, event: CallerHungUp) -> list[Action]:
        actions: list[Action] = []
        if self._state is CallState.HUNTING and self._callback is not None:
            # They asked to be called back: hanging up is what they were told to do.
            self._caller_on = False
            return self._cancel_timers([CALLBACK_CONFIRM_TIMER])
        if self._state is CallState.HUNTING:
            self._hunt_ended_at = event.now
            actions += self._hang_up_ringing(AttemptResult.CANCELLED)
            return actions + self._finish(CallOutcome.ABANDONED, event.now)
        if self._state is CallState.CONNECTED:
            assert self._answered_by is not None
            leg = self._legs[self._answered_by]
            leg.state = LegState.HANGING_UP
            leg.result = AttemptResult.ANSWERED
            actions += [HangupLeg(self._answered_by), *self._record(self._answered_by, leg.result)]
            return actions + self._finish(self._talked(), event.now)
        if self._state is CallState.FALLBACK:
            assert self._fallback_outcome is not None
            return self._finish(self._fallback_outcome, event.now)
        return []

    def _fallback_finished(self, event: FallbackFinished) -> list[Action]:
        if self._state is not CallState.FALLBACK:
            return []
        assert self._fallback_outcome is not None
        return self._finish(self._fallback_outcome, event.now)

    def _too_late_done(self, event: TooLateDone) -> list[Action]:
        name = too_late_timer(event.member_id)
        if name not in self._timers:
            return []  # cancelled (the member hung up first) or never started
        self._timers.discard(name)
        return [HangupLeg(event.member_id)]

    def _runner_stopped(self, event: RunnerStopped) -> list[Action]:
        """The runner cannot go on: end every leg and the call now, in any state but finished.

        Legs without a result are hung up and recorded `failed`. The caller goes to the shipped
        fallback unless bridged (then, when the daemon stops, the caller is hung up too rather
        than left in a silent bridge). The call is `fallback` when the database is away (the
        caller did reach the fallback), else `failed`.
        """
        if self._state is CallState.FINISHED:
            return []
        if (event.reason is StopReason.DAEMON_STOPPING and self._callback is not None
                and self._state is not CallState.CONNECTED):
            return self._keep_callback_request()
        if self._callback is not None and self._state is not CallState.CONNECTED:
            # A request that cannot go on is one to call back (the caller reached no fallback).
            outcome = CallOutcome.CALLBACK_FAILED
        elif event.reason is StopReason.DATABASE_UNAVAILABLE:
            outcome = CallOutcome.FALLBACK
        else:
            outcome = CallOutcome.FAILED
        actions: list[Action] = []
        for member_id in sorted(m for m, leg in self._legs.items() if leg.state in _UNRECORDED):
            leg = self._legs[member_id]
            leg.state = LegState.HANGING_UP
            leg.result = AttemptResult.FAILED
            actions += [HangupLeg(member_id), *self._record(member_id, leg.result)]
        if self._state is not CallState.CONNECTED and self._callback is not None:
            # A callback request: the caller hears its confirmation or their phone rings for
            # the callback; either ends (the request is on the "to call back" list as failed).
            actions.append(HangupCaller())
        elif self._state is not CallState.CONNECTED:
            actions.append(RunFallback(outcome))
        elif event.reason is StopReason.DAEMON_STOPPING:
            actions.append(HangupCaller())
        return actions + self._finish(outcome, event.now, stopped=True)

    def _keep_callback_request(self) -> list[Action]:
        """The daemon stops with a callback request waiting: its legs end, and the request
        stays in its line for this node's next start (a restart does not lose it)."""
        actions: list[Action] = []
        for member_id in sorted(m for m, leg in self._legs.items() if leg.state in _UNRECORDED):
            leg = self._legs[member_id]
            leg.state = LegState.HANGING_UP
            leg.result = AttemptResult.FAILED
            actions += [HangupLeg(member_id), *self._record(member_id, leg.result)]
        if self._caller_on or self._callback is CallbackPhase.CALLING:
            actions.append(HangupCaller())  # the confirmation, or the callback still ringing
        actions += [HangupLeg(m) for m in sorted(self._legs) if too_late_timer(m) in self._timers]
        actions += self._cancel_timers(self._timers)
        self._state = CallState.FINISHED
        actions.append(KeepCallbackRequest(self._callback_tries))
        return actions

    # -- helpers --------------------------------------------------------------------------

    def _record(self, member_id: uuid.UUID, result: AttemptResult) -> list[Action]:
        """RecordAttempt, and for an unanswered ring the team's auto-unavailable check."""
        actions: list[Action] = [RecordAttempt(member_id, result)]
        threshold = self.policy.auto_unavailable_after
        if threshold is not None and threshold > 0 and result in UNANSWERED_RESULTS:
            actions.append(MarkUnavailableIfMissed(member_id, threshold))
        return actions

    def _talked(self) -> CallOutcome:
        return CallOutcome.CALLBACK_ANSWERED if self._callback is not None else CallOutcome.ANSWERED

    def _fetch(self) -> FetchCandidates:
        self._fetching = True
        return FetchCandidates(exclude=self.tried)

    def _hunt_on(self) -> list[Action]:
        """After a leg stopped without an answer: try the next candidates once none rings."""
        if self._state is not CallState.HUNTING or self._fetching or self.ringing_legs:
            return []
        if self._callback in (CallbackPhase.CALLING, CallbackPhase.RETRY):
            return []  # a member holds for the caller, or the pause before the next try runs
        return [self._fetch()]

    def _start_timer(self, name: str, seconds: float) -> StartTimer:
        self._timers.add(name)
        return StartTimer(name, seconds)

    def _cancel_timers(self, names: Iterable[str]) -> list[Action]:
        # Sorted so the actions are deterministic; unknown names are not ours to cancel.
        running = sorted(n for n in set(names) if n in self._timers)
        self._timers.difference_update(running)
        return [CancelTimer(n) for n in running]

    def _hang_up_ringing(self, result: AttemptResult, *, answered_elsewhere: bool = False) -> list[Action]:
        """Hang up every leg still dialling or ringing, recording `result` for each now, so
        that a FinishCall right after never waits on (or forgets) a channel's end."""
        actions: list[Action] = []
        for member_id in sorted(self.ringing_legs):
            leg = self._legs[member_id]
            leg.state = LegState.HANGING_UP
            leg.result = result
            actions += self._cancel_timers([ring_timer(member_id), confirm_timer(member_id)])
            actions += [HangupLeg(member_id, answered_elsewhere), *self._record(member_id, result)]
        return actions

    def _run_fallback(
        self, outcome: CallOutcome, now: datetime, target: FallbackTarget | None
    ) -> list[Action]:
        self._state = CallState.FALLBACK
        self._fallback_outcome = outcome
        self._hunt_ended_at = now
        # The fallback has its own course; the max wait no longer applies.
        return self._leave_line() + self._cancel_timers(self._timers) + [RunFallback(outcome, target)]

    def _finish(self, outcome: CallOutcome, now: datetime, *, stopped: bool = False) -> list[Action]:
        # A member still hearing "too late" is hung up now: nothing would do it later.
        telling = sorted(
            m for m, leg in self._legs.items()
            if leg.state is LegState.HANGING_UP and too_late_timer(m) in self._timers
        )
        actions: list[Action] = [HangupLeg(m) for m in telling]
        actions += self._leave_line()
        actions += self._cancel_timers(self._timers)
        self._state = CallState.FINISHED
        self._outcome = outcome
        if stopped:
            # The runner broke off: the record keeps no times for this call.
            actions.append(FinishCall(outcome, self._answered_by, None, None))
            return actions
        assert self._started_at is not None
        talk_seconds: float | None = None
        if self._answered_at is not None:
            waited_until = self._answered_at
            talk_seconds = (now - self._answered_at).total_seconds()
        else:
            waited_until = self._hunt_ended_at or now
        wait_seconds = (waited_until - self._started_at).total_seconds()
        actions.append(
            FinishCall(outcome, self._answered_by, wait_seconds, talk_seconds)
        )
        return actions

"""What the runner tells a call machine happened; frozen values that contain no I/O whatsoever."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from teamfoned.routing.hours import ALWAYS_OPEN, OpeningHours
from teamfoned.routing.model import Candidate, LineView, StopReason

__all__ = [
    "ANNOUNCE_TIMER",
    "CALLBACK_CONFIRM_TIMER",
    "CALLBACK_RETRY_TIMER",
    "CALLBACK_RING_TIMER",
    "CallbackAnswered",
    "CallbackConfirmDone",
    "CallbackEnded",
    "CallbackRetryDue",
    "CallbackRingTimeout",
    "CallerDigit",
    "AnnounceDue",
    "AnnouncementFinished",
    "MAX_WAIT_TIMER",
    "ConfirmTimeout",
    "LegDigit",
    "confirm_timer",
    "CallEvent",
    "CallerEntered",
    "CallerHungUp",
    "CandidatesFetched",
    "Event",
    "FallbackFinished",
    "GreetingFinished",
    "LegAnswered",
    "LegClaimFailed",
    "LegEnded",
    "LegRinging",
    "LineMoved",
    "MaxWaitReached",
    "RingTimeout",
    "RunnerStopped",
    "TIER_TIMER",
    "TierDue",
    "TooLateDone",
    "ring_timer",
    "timer_fired",
    "too_late_timer",
]

# Timer names the machine starts with StartTimer; the runner turns an expired one back into
# an event with `timer_fired`.
MAX_WAIT_TIMER = "max_wait"
# A caller in the line hears their place when it expires.
ANNOUNCE_TIMER = "announce"
# The caller's tier goes up when it expires (routing.tiers: next_tier_after).
TIER_TIMER = "tier"
# A caller who asked for a callback is hung up when its confirmation has played, or at the
# latest when this expires (the end-of-playback event lost).
CALLBACK_CONFIRM_TIMER = "callback-confirm"
# How long the caller's phone rings when they are called back, and the pause between tries.
CALLBACK_RING_TIMER = "callback-ring"
CALLBACK_RETRY_TIMER = "callback-retry"
_RING_TIMER_PREFIX = "ring:"
_CONFIRM_TIMER_PREFIX = "confirm:"
_TOO_LATE_TIMER_PREFIX = "too-late:"


def ring_timer(member_id: uuid.UUID) -> str:
    """The name of the timer that limits how long `member_id`'s leg rings."""
    return f"{_RING_TIMER_PREFIX}{member_id}"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event. `now` is keyword-only so each event's own fields stay positional;
    it is the only clock the machine ever sees."""

    now: datetime = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class CallerEntered(Event):
    """The caller's channel entered the application; the call starts at `now`.

    `hours`: the team's opening hours, so the machine decides whether it is open at `now`.
    `callback_allowed`: the caller's number passed the checks of a dialled number (valid,
    an allowed country, not premium; never a withheld one), so it may be called back.
    """

    hours: OpeningHours = ALWAYS_OPEN
    callback_allowed: bool = False
    # Not a caller arriving but this node's callback request, taken over after its restart
    # with this many tries gone unanswered; `now` is then the call's start (its place).
    resumed_callback_tries: int | None = None


@dataclass(frozen=True, slots=True)
class CandidatesFetched(Event):
    """Answer to FetchCandidates: who may be rung now (tried members already excluded), and
    the team's waiting line as this call sees it (the default: nobody waits, nobody busy)."""

    candidates: tuple[Candidate, ...]
    line: LineView = LineView()


@dataclass(frozen=True, slots=True)
class LineMoved(Event):
    """Something changed for the team's waiting callers (a member was freed or came on duty,
    a caller ahead left): a waiting call looks for a member again."""


@dataclass(frozen=True, slots=True)
class LegClaimFailed(Event):
    """The runner lost the race to claim the member (they are busy elsewhere); nothing was dialled."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LegRinging(Event):
    """The member's phone is ringing."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LegAnswered(Event):
    """The member picked up (and accepted, when call confirmation is on)."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class LegEnded(Event):
    """The member's channel is gone; `cause` is its Q.850 hang-up cause (None: unknown)."""

    member_id: uuid.UUID
    cause: int | None


@dataclass(frozen=True, slots=True)
class RingTimeout(Event):
    """The ring timer of the member's leg expired."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class MaxWaitReached(Event):
    """The team's maximum caller wait expired."""


@dataclass(frozen=True, slots=True)
class CallerHungUp(Event):
    """The caller's channel is gone."""


@dataclass(frozen=True, slots=True)
class FallbackFinished(Event):
    """The runner has carried out RunFallback (or handed the caller to the dialplan)."""


@dataclass(frozen=True, slots=True)
class LegDigit(Event):
    """The member pressed a key on their answered leg (call confirmation)."""

    member_id: uuid.UUID
    digit: str


@dataclass(frozen=True, slots=True)
class PromptFinished(Event):
    """The confirmation prompt on the member's leg has played to its end."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ConfirmTimeout(Event):
    """The member's confirmation time ran out without the accept key."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TooLateDone(Event):
    """The member's too-late message has had its time to play."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class AnnounceDue(Event):
    """Time for the waiting caller to hear their place in the line again."""


@dataclass(frozen=True, slots=True)
class AnnouncementFinished(Event):
    """The caller's position announcement has played (or was stopped)."""


@dataclass(frozen=True, slots=True)
class TierDue(Event):
    """The caller has waited the team's next_tier_after once more: the next tier joins."""


@dataclass(frozen=True, slots=True)
class GreetingFinished(Event):
    """The team's greeting has played to the caller (or was stopped, or could not play)."""


@dataclass(frozen=True, slots=True)
class CallerDigit(Event):
    """The caller pressed a key (DTMF) while the call was theirs to route."""

    digit: str


@dataclass(frozen=True, slots=True)
class CallbackConfirmDone(Event):
    """The caller's callback confirmation has played (or its time is up): hang them up."""


@dataclass(frozen=True, slots=True)
class CallbackAnswered(Event):
    """The caller answered the callback."""


@dataclass(frozen=True, slots=True)
class CallbackEnded(Event):
    """The callback to the caller ended before they answered (busy, declined, unreachable,
    or the originate failed: `cause` None)."""

    cause: int | None


@dataclass(frozen=True, slots=True)
class CallbackRingTimeout(Event):
    """The caller's phone rang for the ring time without an answer."""


@dataclass(frozen=True, slots=True)
class CallbackRetryDue(Event):
    """The pause after an unanswered callback has passed: look for a member again."""


@dataclass(frozen=True, slots=True)
class RunnerStopped(Event):
    """The runner cannot go on (`reason`); the machine ends the call at once. The only event
    the machine also takes before CallerEntered."""

    reason: StopReason


CallEvent = (
    CallerEntered
    | CandidatesFetched
    | LegClaimFailed
    | LegRinging
    | LegAnswered
    | LegEnded
    | RingTimeout
    | MaxWaitReached
    | CallerHungUp
    | FallbackFinished
    | LegDigit
    | PromptFinished
    | ConfirmTimeout
    | TooLateDone
    | LineMoved
    | AnnounceDue
    | AnnouncementFinished
    | TierDue
    | GreetingFinished
    | CallerDigit
    | CallbackConfirmDone
    | CallbackAnswered
    | CallbackEnded
    | CallbackRingTimeout
    | CallbackRetryDue
    | RunnerStopped
)


def confirm_timer(member_id: uuid.UUID) -> str:
    """The name of the timer that limits a member's call confirmation."""
    return f"{_CONFIRM_TIMER_PREFIX}{member_id}"


def too_late_timer(member_id: uuid.UUID) -> str:
    """The name of the timer that lets a too-late member hear their message before the hang-up."""
    return f"{_TOO_LATE_TIMER_PREFIX}{member_id}"


_MEMBER_TIMERS: tuple[tuple[str, type[RingTimeout | ConfirmTimeout | TooLateDone]], ...] = (
    (_RING_TIMER_PREFIX, RingTimeout),
    (_CONFIRM_TIMER_PREFIX, ConfirmTimeout),
    (_TOO_LATE_TIMER_PREFIX, TooLateDone),
)


_CALL_TIMERS: dict[str, type[MaxWaitReached | AnnounceDue | TierDue | CallbackConfirmDone
                             | CallbackRingTimeout | CallbackRetryDue]] = {
    MAX_WAIT_TIMER: MaxWaitReached,
    ANNOUNCE_TIMER: AnnounceDue,
    TIER_TIMER: TierDue,
    CALLBACK_CONFIRM_TIMER: CallbackConfirmDone,
    CALLBACK_RING_TIMER: CallbackRingTimeout,
    CALLBACK_RETRY_TIMER: CallbackRetryDue,
}


def timer_fired(
    name: str, *, now: datetime
) -> (MaxWaitReached | AnnounceDue | TierDue | CallbackConfirmDone | CallbackRingTimeout | CallbackRetryDue
      | RingTimeout | ConfirmTimeout | TooLateDone | None):
    """The event for an expired timer that the machine started; None for a name it never uses."""
    call_timer = _CALL_TIMERS.get(name)
    if call_timer is not None:
        return call_timer(now=now)
    for prefix, event in _MEMBER_TIMERS:
        if name.startswith(prefix):
            try:
                return event(uuid.UUID(name[len(prefix) :]), now=now)
            except ValueError:
                return None
    return None

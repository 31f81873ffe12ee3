"""The routing vocabulary: plain frozen values, no behaviour beyond mapping; contains no I/O whatsoever."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "ANSWERED_OUTCOMES",
    "CALLBACK_KEYS",
    "CALLBACK_OUTCOMES",
    "MISSED_OUTCOMES",
    "ORPHAN_ATTEMPT_RESULT",
    "UNANSWERED_RESULTS",
    "AttemptResult",
    "CallOutcome",
    "Candidate",
    "FallbackKind",
    "FallbackTarget",
    "LineView",
    "OpenAttempt",
    "OpenCallState",
    "StopReason",
    "TeamPolicy",
    "TeamRoute",
    "WaitingSound",
    "attempt_result_for_cause",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A team member who may be rung now.

    `priority`: lower rings first (`linear`); also the member's place in the team for
    `round_robin`, so priorities should be distinct within a team.
    `idle_since`: end of the member's last answered call (None: never answered one).
    `calls_taken`: answered calls in the statistics window (`fewest_calls`).
    """

    member_id: uuid.UUID
    priority: int
    idle_since: datetime | None
    calls_taken: int
    # An external number (a mobile over the trunk), as opposed to a SIP desk phone: only
    # external legs ask for call confirmation, since only they can reach a voicemail box.
    external: bool = True
    # The member's tier in the team (routing.tiers): tier 1 is offered calls first.
    tier: int = 1


class CallOutcome(StrEnum):
    """How a caller's journey through a team number ended."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"  # the caller hung up first
    NO_ONE_AVAILABLE = "no_one_available"  # candidates ran out before anyone answered
    TIMED_OUT = "timed_out"  # the team's maximum wait passed
    CLOSED = "closed"  # outside opening hours or on a holiday: the closed fallback ran
    # The caller asked to be called back from the line: a member accepted and the caller
    # answered the callback, or every try of the callback went unanswered.
    CALLBACK_ANSWERED = "callback_answered"
    CALLBACK_FAILED = "callback_failed"
    # The last two are set outside the routing core: the fallback took the call over,
    # or the runner could not go on.
    FALLBACK = "fallback"
    FAILED = "failed"


class AttemptResult(StrEnum):
    """How one leg to one member ended."""

    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    # Another member answered, the caller left, or the maximum wait passed.
    CANCELLED = "cancelled"
    CONFIRM_TIMEOUT = "confirm_timeout"
    DECLINED = "declined"
    TOO_LATE = "too_late"
    FAILED = "failed"
    # The member accepted a callback, and the caller did not answer it (no answer, busy,
    # unreachable): the member was released and the request waits for its next try.
    CALLBACK_UNANSWERED = "callback_unanswered"


# Calls nobody answered: the team should call back (the "to call back" list, call.missed).
MISSED_OUTCOMES = frozenset({
    CallOutcome.ABANDONED,
    CallOutcome.NO_ONE_AVAILABLE,
    CallOutcome.TIMED_OUT,
    CallOutcome.CLOSED,
    CallOutcome.FAILED,
    CallOutcome.CALLBACK_FAILED,
})

# Calls in which a member talked with the caller (statistics count both as answered).
ANSWERED_OUTCOMES = frozenset({CallOutcome.ANSWERED, CallOutcome.CALLBACK_ANSWERED})

# Calls whose caller asked to be called back (statistics: callbacks made).
CALLBACK_OUTCOMES = frozenset({CallOutcome.CALLBACK_ANSWERED, CallOutcome.CALLBACK_FAILED})

# The keys a team may give its waiting callers for a callback (DTMF digits).
CALLBACK_KEYS = tuple("0123456789*#")

# Results that count towards auto-unavailable: the phone rang or answered unattended.
UNANSWERED_RESULTS = frozenset({AttemptResult.NO_ANSWER, AttemptResult.CONFIRM_TIMEOUT})

# Attempts a call left open when it finished were never closed by their leg: record that.
ORPHAN_ATTEMPT_RESULT = AttemptResult.FAILED


class FallbackKind(StrEnum):
    """Where a call goes when the hunt ends without an answer (or the team is closed)."""

    DIALPLAN = "dialplan"  # continue at a dialplan context the sysadmin provides
    NUMBER = "number"  # dial one number through the trunk
    ANNOUNCE = "announce"  # play a sound and hang up
    TEAM = "team"  # overflow into another team of the tenant


@dataclass(frozen=True, slots=True)
class FallbackTarget:
    """A fallback the team configured: its kind and target (None: the kind's default)."""

    kind: FallbackKind
    target: str | None = None


class WaitingSound(StrEnum):
    """What a caller hears while the team's members are rung and while they wait in its line."""

    RINGING = "ringing"  # ringback: signalling only, the caller's network makes the tone
    MUSIC = "music"  # music on hold (a class the sysadmin allows), as early media


@dataclass(frozen=True, slots=True)
class TeamPolicy:
    """A team's routing settings, with the daemon's own timings; times are in seconds."""

    strategy: str
    ring_time: float
    max_wait: float
    wrap_up: float
    # Call confirmation: an answered external leg must press `accept_key` within
    # `confirm_time` seconds before the caller is bridged to it.
    confirm_calls: bool = False
    confirm_time: float = 10.0
    accept_key: str = "1"
    # A member who confirms after a teammate took the call hears the too-late message for
    # this long before their leg is hung up.
    too_late_seconds: float = 2.0
    # Make a member unavailable after this many unanswered attempts in a row (None: never).
    auto_unavailable_after: int | None = None
    # Where the call goes when the hunt ends without an answer, and when the team is closed;
    # None: the team names none, the shipped fallback for that outcome takes the call.
    fallback: FallbackTarget | None = None
    closed_fallback: FallbackTarget | None = None
    # When no member of the team is available at all: wait in the line anyway (for a team
    # whose members come on duty soon) instead of falling back at once.
    wait_when_none_available: bool = False
    # A caller in the line hears their place every this many seconds (None: never).
    announce_position_every: float | None = None
    # ... and with it the expected wait, when the team's recent history allows one.
    announce_expected_wait: bool = False
    # What the caller hears from the start, and whether the team's greeting plays before it
    # (once, as the call starts).
    waiting_sound: WaitingSound = WaitingSound.RINGING
    greeting: bool = False
    # Whether the call can wait in the team's line at all: a FastAGI call cannot (the site's
    # dialplan holds the caller, and nothing would wake it), so it falls back instead.
    can_wait: bool = True
    # Tiers: the next tier joins every this many seconds the caller has waited (None: only when
    # the tiers below have nobody available for the call; routing.tiers).
    next_tier_after: float | None = None
    # A waiting caller who presses `callback_key` (None: not offered) is called back instead:
    # up to `callback_attempts` times, `callback_retry_after` seconds apart, each rung for
    # `ring_time` like a member.
    callback_key: str | None = None
    callback_attempts: int = 2
    callback_retry_after: float = 60.0


@dataclass(frozen=True, slots=True)
class LineView:
    """The team's waiting line as one call sees it when it looks for a member.

    `ahead`: callers of the team who arrived before this one and wait with no member ringing
    for them (they are offered free members first). `available`: members of the team who are
    available and not yet tried in this call, free or busy. `unknown`: the line could not be
    read (the database is away): a caller already in the line keeps waiting (the max wait still
    bounds it), a new one is routed as if nobody waited. `first_tier`: the lowest tier among
    those `available` members (None: nobody, or not read), where the call's tiers start.
    """

    ahead: int = 0
    available: int = 0
    unknown: bool = False
    first_tier: int | None = None


class StopReason(StrEnum):
    """Why a call's runner cannot go on; the call machine ends the call for it."""

    DAEMON_STOPPING = "daemon_stopping"
    # The database is away and the last availability read is too old to route on.
    DATABASE_UNAVAILABLE = "database_unavailable"
    RUNNER_FAILED = "runner_failed"


# Q.850 cause codes as Asterisk reports them in ChannelDestroyed / ChannelHangupRequest.
_RESULT_BY_CAUSE: dict[int, AttemptResult] = {
    17: AttemptResult.BUSY,  # user busy
    21: AttemptResult.REJECTED,  # call rejected
    18: AttemptResult.NO_ANSWER,  # no user responding
    19: AttemptResult.NO_ANSWER,  # no answer from user (user alerted)
    1: AttemptResult.UNREACHABLE,  # unallocated number
    3: AttemptResult.UNREACHABLE,  # no route to destination
    27: AttemptResult.UNREACHABLE,  # destination out of order
    34: AttemptResult.UNREACHABLE,  # no circuit/channel available
    38: AttemptResult.UNREACHABLE,  # network out of order
}


def attempt_result_for_cause(cause: int | None) -> AttemptResult:
    """The attempt result for a leg the far end ended with Q.850 `cause` (None: unknown)."""
    if cause is None:
        return AttemptResult.FAILED
    return _RESULT_BY_CAUSE.get(cause, AttemptResult.FAILED)


@dataclass(frozen=True, slots=True)
class TeamRoute:
    """Everything the daemon needs to route a call that arrived on a team number."""

    tenant_id: uuid.UUID
    team_id: uuid.UUID
    team_name: str
    label: str
    strategy: str
    ring_time: float
    max_wait: float
    wrap_up: float
    confirm_calls: bool
    fallback_kind: str
    fallback_target: str | None
    rr_position: int | None
    timezone: str = "UTC"
    closed_kind: str | None = None
    closed_target: str | None = None
    auto_unavailable_after: int | None = None
    confirm_recording: str | None = None
    wait_when_none_available: bool = False
    announce_position_every: int | None = None
    language: str = "en"
    next_tier_after: int | None = None
    waiting_sound: str = WaitingSound.RINGING.value
    moh_class: str | None = None
    greeting: str | None = None
    announce_expected_wait: bool = False
    callback_key: str | None = None
    callback_attempts: int = 2
    callback_retry_after: int = 60

    def policy(self, *, confirm_time: float, too_late_seconds: float) -> TeamPolicy:
        """The team's routing policy, with the daemon's confirmation time and the length of
        its too-late message (not team settings, so not in the route)."""
        return TeamPolicy(
            strategy=self.strategy,
            ring_time=self.ring_time,
            max_wait=self.max_wait,
            wrap_up=self.wrap_up,
            confirm_calls=self.confirm_calls,
            confirm_time=confirm_time,
            too_late_seconds=too_late_seconds,
            auto_unavailable_after=self.auto_unavailable_after or None,
            fallback=_stored_fallback(self.fallback_kind, self.fallback_target),
            closed_fallback=_stored_fallback(self.closed_kind, self.closed_target),
            wait_when_none_available=self.wait_when_none_available,
            announce_position_every=float(self.announce_position_every)
            if self.announce_position_every else None,
            next_tier_after=float(self.next_tier_after) if self.next_tier_after else None,
            announce_expected_wait=self.announce_expected_wait,
            waiting_sound=_stored_waiting_sound(self.waiting_sound),
            greeting=self.greeting is not None,
            callback_key=self.callback_key or None,
            callback_attempts=self.callback_attempts,
            callback_retry_after=float(self.callback_retry_after),
        )


def _stored_waiting_sound(stored: str) -> WaitingSound:
    try:
        return WaitingSound(stored)
    except ValueError:
        # A value the store should have refused: ringing, the sound every caller knows.
        return WaitingSound.RINGING


def _stored_fallback(kind: str | None, target: str | None) -> FallbackTarget | None:
    """A fallback as the store keeps it; None when no kind is set."""
    if not kind:
        return None
    try:
        return FallbackTarget(FallbackKind(kind), target)
    except ValueError:
        # A kind the store should have refused: the shipped dialplan fallback, never silence.
        return FallbackTarget(FallbackKind.DIALPLAN)


@dataclass(frozen=True, slots=True)
class OpenAttempt:
    attempt_id: uuid.UUID
    member_id: uuid.UUID
    channel_id: str | None
    answered_at: datetime | None


@dataclass(frozen=True, slots=True)
class OpenCallState:
    """A call of this node with no outcome, and its attempts that are still open."""

    call_id: uuid.UUID
    tenant_id: uuid.UUID
    team_id: uuid.UUID | None
    channel_id: str | None
    dialled_number: str | None
    started_at: datetime
    answered_at: datetime | None
    attempts: tuple[OpenAttempt, ...] = field(default_factory=tuple)
    caller_number: str | None = None
    # A callback request still in the team's line: the tries that went unanswered (None: the
    # caller asked for no callback).
    callback_tries: int | None = None

"""What a call machine asks the runner to do; frozen values that contain no I/O whatsoever."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from teamfoned.routing.model import AttemptResult, CallOutcome, FallbackTarget

__all__ = [
    "Action",
    "AnnouncePosition",
    "AskConfirmation",
    "TellTooLate",
    "Bridge",
    "CallAction",
    "CallBack",
    "CallbackRetryLater",
    "ConfirmCallback",
    "OfferCallback",
    "CancelTimer",
    "Dial",
    "FetchCandidates",
    "FinishCall",
    "HangupCaller",
    "HangupLeg",
    "JoinLine",
    "KeepCallbackRequest",
    "LeaveLine",
    "MarkUnavailableIfMissed",
    "PlayGreeting",
    "RecordAnswer",
    "RecordAttempt",
    "RunFallback",
    "SaveRoundRobin",
    "StartMusic",
    "StartRinging",
    "StartTimer",
]


@dataclass(frozen=True, slots=True)
class Action:
    """Base of every action."""


@dataclass(frozen=True, slots=True)
class StartRinging(Action):
    """Let the caller hear ringing (the team's waiting sound `ringing`)."""


@dataclass(frozen=True, slots=True)
class StartMusic(Action):
    """Let the caller hear the team's music on hold (its waiting sound `music`), as early media:
    the caller is not answered by it. It stops before anything else plays to the caller, and
    before the caller is bridged or moved to the fallback."""


@dataclass(frozen=True, slots=True)
class PlayGreeting(Action):
    """Play the team's greeting to the caller, once, as early media; feed back GreetingFinished
    when it has played (or could not play)."""


@dataclass(frozen=True, slots=True)
class FetchCandidates(Action):
    """Ask the store who may be rung now, leaving out `exclude`; answer with CandidatesFetched."""

    exclude: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class Dial(Action):
    """Claim the member atomically, then originate their leg. A lost claim comes back as
    LegClaimFailed, and the runner then ignores HangupLeg / RecordAttempt for that member."""

    member_id: uuid.UUID
    ring_time: float


@dataclass(frozen=True, slots=True)
class HangupLeg(Action):
    """Hang up the member's leg (a no-op if its channel is already gone).

    `answered_elsewhere`: a teammate took the call, so the phone is told so (Q.850 cause 26)
    and shows no missed call; every other hang-up keeps the normal cause."""

    member_id: uuid.UUID
    answered_elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class Bridge(Action):
    """Bridge the caller with the member's answered leg."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class HangupCaller(Action):
    """Hang up the caller's channel."""


@dataclass(frozen=True, slots=True)
class StartTimer(Action):
    """Start (or restart) the named timer; when it expires feed back `timer_fired(name, now=...)`."""

    name: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer(Action):
    """Cancel the named timer (a no-op if it already expired)."""

    name: str


@dataclass(frozen=True, slots=True)
class RecordAttempt(Action):
    """End the member's attempt in the store with `result`, which releases the member."""

    member_id: uuid.UUID
    result: AttemptResult


@dataclass(frozen=True, slots=True)
class RecordAnswer(Action):
    """Mark the member's attempt (and the call) answered in the store."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class RunFallback(Action):
    """Send the caller to `target` (None: the shipped fallback context for `outcome`), then
    feed back FallbackFinished. A caller who left, or is in the dialplan already, is not moved.
    When FinishCall follows in the same batch (the runner stopped), nothing is fed back."""

    outcome: CallOutcome
    target: FallbackTarget | None = None


@dataclass(frozen=True, slots=True)
class FinishCall(Action):
    """The call is over: store its outcome. Always the last action of a machine.

    `wait_seconds`: from the start of the call until it was answered, or until the hunt
    stopped (caller hung up, fallback started) when it was not.
    `talk_seconds`: from answer to end; None when unanswered.
    Both are None for a call the runner could not go on with (RunnerStopped).
    """

    outcome: CallOutcome
    answered_by: uuid.UUID | None
    wait_seconds: float | None
    talk_seconds: float | None


@dataclass(frozen=True, slots=True)
class SaveRoundRobin(Action):
    """Store the team's new round-robin position (the priority of the member last picked)."""

    position: int


@dataclass(frozen=True, slots=True)
class AskConfirmation(Action):
    """Tell the member who answered which team the call is for, and listen for their key;
    with `callback`, that the call is a callback for the caller's number."""

    member_id: uuid.UUID
    callback: bool = False


@dataclass(frozen=True, slots=True)
class TellTooLate(Action):
    """Play the too-late message on the member's leg (a teammate took the call first); the
    machine hangs the leg up when the message has had its time."""

    member_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class MarkUnavailableIfMissed(Action):
    """Make the member unavailable if their last `threshold` attempts, the one just recorded
    included, all went unanswered (the store holds that history)."""

    member_id: uuid.UUID
    threshold: int


@dataclass(frozen=True, slots=True)
class JoinLine(Action):
    """Put the call in its team's waiting line (once per call), in the order of `arrived_at`
    (the call's start), and feed back LineMoved whenever the line may have moved."""

    arrived_at: datetime


@dataclass(frozen=True, slots=True)
class LeaveLine(Action):
    """Take the call out of its team's waiting line (answered, fallback or ended); the
    callers behind it are told the line moved."""


@dataclass(frozen=True, slots=True)
class AnnouncePosition(Action):
    """Tell the waiting caller their place in the team's line, in the team's language; feed
    back AnnouncementFinished when it has played. `expected_wait`: say the expected wait too,
    when the team's recent history gives one (routing.expected_wait). With `callback_key`,
    the offer to press it to be called back follows."""

    expected_wait: bool = False
    callback_key: str | None = None


@dataclass(frozen=True, slots=True)
class OfferCallback(Action):
    """Tell the waiting caller to press `key` to be called back (a team without position
    announcements); feed back AnnouncementFinished when it has played."""

    key: str


@dataclass(frozen=True, slots=True)
class ConfirmCallback(Action):
    """The caller asked to be called back: record the request (the call keeps its place in
    the line), play them its confirmation, and feed back CallbackConfirmDone when it has
    played."""


@dataclass(frozen=True, slots=True)
class CallBack(Action):
    """Call the caller back from the team number (the number they dialled), for `ring_time`
    seconds; the member who accepted (`member_id`) holds meanwhile. Feed back
    CallbackAnswered, or CallbackEnded when the call ends unanswered."""

    member_id: uuid.UUID
    ring_time: float


@dataclass(frozen=True, slots=True)
class KeepCallbackRequest(Action):
    """The daemon stops while a callback request waits: the call stays open in its line, for
    this node's next start to continue (`tries` went unanswered so far). The machine's last
    action instead of FinishCall."""

    tries: int


@dataclass(frozen=True, slots=True)
class CallbackRetryLater(Action):
    """The callback's try number `tries` went unanswered: the request waits `seconds` before
    it looks for a member again (until then it holds no member back from callers behind)."""

    tries: int
    seconds: float


CallAction = (
    StartRinging
    | StartMusic
    | PlayGreeting
    | FetchCandidates
    | Dial
    | HangupLeg
    | Bridge
    | HangupCaller
    | StartTimer
    | CancelTimer
    | RecordAttempt
    | RecordAnswer
    | RunFallback
    | FinishCall
    | SaveRoundRobin
    | AskConfirmation
    | TellTooLate
    | MarkUnavailableIfMissed
    | JoinLine
    | LeaveLine
    | AnnouncePosition
    | OfferCallback
    | ConfirmCallback
    | CallBack
    | CallbackRetryLater
    | KeepCallbackRequest
)

"""One call's runner: turns ARI events into call-machine events and carries out the machine's actions.

The decisions are the machine's (teamfoned.routing); this file only does I/O.
Each call has one runner task that handles its inbox strictly in order, so
the machine never sees two events at once.
"""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from teamfoned.domain.phones import PhoneKind, PhoneRejected, callable_number
from teamfoned.domain.team_settings import FallbackPolicy
from teamfoned.domain.timetable import stored_zone
from teamfoned.metrics import Metrics
from teamfoned.routing import (
    Action,
    AnnouncementFinished,
    AnnouncePosition,
    AskConfirmation,
    Bridge,
    CallBack,
    CallbackAnswered,
    CallbackConfirmDone,
    CallbackEnded,
    CallbackRetryLater,
    CallerDigit,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    CancelTimer,
    CandidatesFetched,
    ConfirmCallback,
    Dial,
    FallbackFinished,
    FetchCandidates,
    FinishCall,
    GreetingFinished,
    HangupCaller,
    HangupLeg,
    JoinLine,
    KeepCallbackRequest,
    LeaveLine,
    LegAnswered,
    LegClaimFailed,
    LegDigit,
    LegEnded,
    LegRinging,
    LineMoved,
    LineView,
    MarkUnavailableIfMissed,
    OfferCallback,
    OpeningHours,
    PlayGreeting,
    PromptFinished,
    RecordAnswer,
    RecordAttempt,
    RunFallback,
    RunnerStopped,
    SaveRoundRobin,
    StartMusic,
    StartRinging,
    StartTimer,
    StopReason,
    TellTooLate,
)
from teamfoned.routing.events import Event, timer_fired
from teamfoned.routing.expected_wait import SAMPLES, WINDOW, expected_wait_minutes
from teamfoned.routing.model import AttemptResult, CallOutcome, OpenCallState, TeamRoute
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.ari_errors import AriError
from teamfoned.telephony.dialstring import dial_target
from teamfoned.telephony.fallback import DEFAULT_CONTEXT, FallbackPlan, plan_fallback
from teamfoned.telephony.ports import (
    DatabaseUnavailable,
    LineSignalling,
    RoutingStore,
    WaitingLineStore,
)
from teamfoned.telephony.prompts import (
    CALLBACK_CONFIRMED,
    TOO_LATE_PROMPT,
    TOO_LATE_SECONDS,
    callback_prompt,
    confirmation_prompt,
    line_announcement,
    member_caller_id,
    tenant_sound,
)

log = structlog.get_logger(__name__)

# Asterisk's own originate timeout is a safety net only: our ring timer decides
# (older Asterisk reports cause 0 on its own timeout), so give Asterisk a little longer.
ORIGINATE_GRACE_SECONDS = 5
# ARI's app argument that marks a channel as one of our member legs.
LEG_ARG = "teamfoned-leg"
# Our bridges are named with this prefix and the call id, so a restarted daemon can find them.
BRIDGE_PREFIX = "teamfoned-"


@dataclass
class Leg:
    member_id: uuid.UUID
    attempt_id: uuid.UUID
    channel_id: str
    claimed: bool = False
    dialled_at: datetime | None = None
    rang_for: float | None = None  # seconds from dialling to the answer
    prompt_id: str | None = None  # the confirmation prompt's playback, while it may still play


@dataclass(frozen=True)
class RunnerContext:
    """What every call runner shares: built once by the daemon."""

    ari: AriClient
    repo: RoutingStore
    clock: Callable[[], datetime]
    node: str
    trunk_template: str
    caller_id_mode: str
    confirm_time: float
    register_leg: Callable[[str, CallRunner], None]
    forget_channel: Callable[[str], None]
    rng: random.Random
    # The daemon passes its own; a default keeps tests that build a context short.
    metrics: Metrics = field(default_factory=Metrics)
    # What a team's fallback may dial or continue at; the daemon passes the configured one.
    fallbacks: FallbackPolicy = field(default_factory=FallbackPolicy)
    # The waiting line and its wake-ups; None: no line (nobody waits ahead, no member counts
    # as busy), as in tests of the other actions.
    line: WaitingLineStore | None = None
    signals: LineSignalling | None = None


class TimerExpired:
    """Inbox item: a machine timer ran out."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class LineMovedItem:
    """Inbox item: the team's waiting line may have moved."""

    __slots__ = ()


LINE_MOVED = LineMovedItem()

# What a call's inbox holds: ARI events (plain JSON objects), our own expired timers and
# waiting-line wake-ups.
InboxItem = dict[str, Any] | TimerExpired | LineMovedItem

# Actions that do not touch the caller's channel: they need not wait for its ring request
# (the member's leg is claimed and dialled while the caller's 180 is on its way; StartRinging
# rings only a caller not rung yet, so never one whose ring is pending).
_LEAVES_CALLER_ALONE = (StartRinging, FetchCandidates, Dial, StartTimer, CancelTimer, RecordAttempt, RecordAnswer,
                        MarkUnavailableIfMissed, AskConfirmation, TellTooLate, HangupLeg,
                        SaveRoundRobin, JoinLine, LeaveLine)


class CallRunner:
    """Owns one caller's journey: its machine, its legs, its timers and its bridge."""

    def __init__(self, ctx: RunnerContext, channel: dict[str, Any], dialled: str, route: TeamRoute,
                 inbox: asyncio.Queue[InboxItem], *, caller_ringing: bool = False,
                 caller_ring: Awaitable[None] | None = None,
                 resumed: OpenCallState | None = None) -> None:
        self.ctx = ctx
        # `resumed`: this node's callback request, taken over after a restart (its call goes on).
        self.resumed = resumed
        self.call_id = uuid.uuid4() if resumed is None else resumed.call_id
        self.caller_channel_id: str = channel["id"]
        self.caller_number: str = channel.get("caller", {}).get("number") or ""
        self.caller_name: str = channel.get("caller", {}).get("name") or ""
        self.dialled = dialled
        self.route = route
        self.policy = route.policy(confirm_time=ctx.confirm_time, too_late_seconds=TOO_LATE_SECONDS)
        self.machine = CallMachine(self.call_id, self.policy, rng=ctx.rng, rr_position=route.rr_position)
        # The dispatcher created the inbox when the caller arrived: nothing sent since is lost.
        self.inbox = inbox
        self.legs: dict[uuid.UUID, Leg] = {}
        self.legs_by_channel: dict[str, Leg] = {}
        self.bridge_id: str | None = None
        # The dispatcher rings every caller before any database work: then not twice.
        self.caller_ringing = caller_ringing
        # That ring request, still on its way: nothing that acts on the caller's channel goes
        # before it (see _carry_out), but the member's leg need not wait for it.
        self._caller_ring = caller_ring
        self._timers: dict[str, asyncio.TimerHandle] = {}
        # Actions the machine asked for and not carried out yet: if the runner breaks off in
        # the middle of the batch that finished the call, the rest is still carried out.
        self._unfinished: deque[Action] = deque()
        self._caller_gone = False
        # The call's start as the machine saw it: its place in the team's waiting line.
        self.arrived_at: datetime | None = None
        # One wake-up in the inbox at a time: a burst of signals is one look at the line.
        self._wake_queued = False
        self._joined_line_at: datetime | None = None
        # The position announcement and the greeting playing to the caller now (their
        # playback ids), if any; whether music on hold plays to them.
        self._announcement: str | None = None
        self._greeting: str | None = None
        self._music = False
        self._language_set = False
        # The caller was handed to the dialplan: their StasisEnd ends the fallback, not the call.
        self._in_fallback_dialplan = False
        # The callback: the caller's number as it may be dialled (None: never offered); every
        # channel the caller has had (their own call, then each callback); whether the current
        # one is a callback and answered; the request's confirmation playing to the caller.
        self._callback_number: str | None = None
        self._caller_channels: list[str] = [self.caller_channel_id]
        self._calling_back = False
        self._callback_up = False
        self._caller_answered = False
        self._confirmation: str | None = None
        self.log = log.bind(call_id=str(self.call_id), team=route.team_name)

    # -- inbox --------------------------------------------------------------------------

    async def run(self) -> None:
        """Handle the call from its first event until the machine finishes."""
        self.ctx.metrics.calls_in_progress.inc()
        hours: asyncio.Future[OpeningHours] | None = None
        try:
            # Independent reads and writes overlap: the opening hours are read while the call
            # row is written (two round trips in the time of one, before the first ring).
            hours = asyncio.ensure_future(self._opening_hours())
            resumed_tries: int | None = None
            if self.resumed is None:
                await self.ctx.repo.start_call(
                    self.call_id, self.route.tenant_id, self.route.team_id,
                    caller_number=self.caller_number or None, dialled_number=self.dialled,
                    channel_id=self.caller_channel_id, node=self.ctx.node, now=self.ctx.clock(),
                )
                self.log.info("call_started", dialled=self.dialled, strategy=self.route.strategy)
                self.arrived_at = self.ctx.clock()
            else:
                # The caller's own call is long gone; the request keeps the call's start.
                self._caller_gone = True
                self.arrived_at = self.resumed.started_at
                resumed_tries = self.resumed.callback_tries or 0
            self._callback_number = self._callable_number()
            await self._feed(CallerEntered(await hours, callback_allowed=self._callback_number is not None,
                                           resumed_callback_tries=resumed_tries, now=self.arrived_at))
            while not self.machine.finished:
                event = self._translate(await self.inbox.get())
                if event is not None:
                    await self._feed(event)
        except asyncio.CancelledError:
            # The daemon is stopping: end the call's legs; the caller goes to the fallback.
            await self._stop(StopReason.DAEMON_STOPPING)
            raise
        except DatabaseUnavailable as exc:
            # The database is away and the last availability we read is too old to route on.
            self.log.error("call_not_routable", error=str(exc))
            await self._stop(StopReason.DATABASE_UNAVAILABLE)
        except Exception:
            self.log.exception("call_runner_failed")
            await self._stop(StopReason.RUNNER_FAILED)
        finally:
            if hours is not None:
                if not hours.done():
                    hours.cancel()
                elif not hours.cancelled():
                    hours.exception()  # retrieved: the failure, if any, was handled above
            self.ctx.metrics.calls_in_progress.dec()
            await self._cleanup()

    def _translate(self, item: InboxItem) -> Event | None:
        now = self.ctx.clock()
        if isinstance(item, TimerExpired):
            self._timers.pop(item.name, None)
            return timer_fired(item.name, now=now)
        if isinstance(item, LineMovedItem):
            self._wake_queued = False
            return LineMoved(now=now)
        kind = item.get("type")
        if kind == "PlaybackFinished":
            return self._playback_finished(item, now)
        channel = item.get("channel") or {}
        channel_id = channel.get("id")
        if channel_id == self.caller_channel_id and self._calling_back:
            return self._callback_event(kind, item, now)
        if channel_id == self.caller_channel_id:
            if kind == "ChannelDtmfReceived":
                return CallerDigit(str(item.get("digit", "")), now=now)
            if kind in ("StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"):
                if kind != "ChannelHangupRequest":
                    self._caller_gone = True
                if kind == "StasisEnd" and self._in_fallback_dialplan:
                    return FallbackFinished(now=now)
                return CallerHungUp(now=now)
            return None
        leg = self.legs_by_channel.get(channel_id) if isinstance(channel_id, str) else None
        if leg is None or self.legs.get(leg.member_id) is not leg:
            return None  # not ours, or a member's leg of an earlier callback try
        if kind == "ChannelStateChange" and channel.get("state") == "Ringing":
            return LegRinging(leg.member_id, now=now)
        if kind == "StasisStart":
            return LegAnswered(leg.member_id, now=now)
        if kind == "ChannelDtmfReceived":
            return LegDigit(leg.member_id, str(item.get("digit", "")), now=now)
        if kind == "ChannelDestroyed":
            return LegEnded(leg.member_id, item.get("cause"), now=now)
        return None

    def _callback_event(self, kind: Any, item: dict[str, Any], now: datetime) -> Event | None:
        """An event of the callback's channel to the caller."""
        if kind == "StasisStart":
            self._callback_up = True
            return CallbackAnswered(now=now)
        if kind in ("StasisEnd", "ChannelDestroyed", "ChannelHangupRequest") and self._callback_up:
            if kind != "ChannelHangupRequest":
                self._caller_gone = True
            return CallerHungUp(now=now)
        if kind == "ChannelDestroyed":
            return CallbackEnded(item.get("cause"), now=now)
        return None

    def _playback_finished(self, item: dict[str, Any], now: datetime) -> Event | None:
        playback = item.get("playback") or {}
        playback_id = playback.get("id")
        if playback_id is None:
            return None
        # A playback event names no channel: the ids we gave our playbacks tell them apart.
        if playback_id == self._announcement:
            self._announcement = None
            return AnnouncementFinished(now=now)
        if playback_id == self._greeting:
            self._greeting = None
            return GreetingFinished(now=now)
        if playback_id == self._confirmation:
            self._confirmation = None
            return CallbackConfirmDone(now=now)
        for leg in self.legs.values():
            if leg.prompt_id is not None and leg.prompt_id == playback.get("id"):
                return PromptFinished(leg.member_id, now=now)
        return None  # another playback (or one we stopped): nothing to tell the machine

    # -- the machine --------------------------------------------------------------------

    async def _feed(self, first: Event) -> None:
        pending: deque[Event] = deque([first])
        while pending:
            self._unfinished.extend(self.machine.handle(pending.popleft()))
            while self._unfinished:
                follow_up = await self._carry_out(self._unfinished.popleft())
                if follow_up is not None:
                    pending.append(follow_up)

    async def _stop(self, reason: StopReason) -> None:
        """The one way out when the runner cannot go on: the machine says how the call ends."""
        if self.machine.finished:
            # It broke off in the batch that ended the call: that batch still ends it.
            actions = list(self._unfinished)
        else:
            actions = self.machine.handle(RunnerStopped(reason, now=self.ctx.clock()))
        self._unfinished.clear()
        for action in actions:
            try:
                await self._carry_out(action)  # a fed-back event finds the machine finished
            except Exception:
                # One failed step must not keep the rest (the record of the call) from happening.
                self.log.exception("call_stop_step_failed", action=type(action).__name__)
        self.log.warning("call_abandoned", reason=str(reason))

    async def _carry_out(self, action: Action) -> Event | None:
        ari, repo, now = self.ctx.ari, self.ctx.repo, self.ctx.clock
        if self._caller_ring is not None and not isinstance(action, _LEAVES_CALLER_ALONE):
            # The caller's ring reaches Asterisk before anything else done to their channel
            # (answer, bridge, early media, the dialplan): else a late 180 could follow it.
            ring, self._caller_ring = self._caller_ring, None
            await ring
        match action:
            case StartRinging():
                await self._stop_music()
                if not self.caller_ringing:
                    self.caller_ringing = True
                    await self._quietly(ari.ring(self.caller_channel_id))
            case StartMusic():
                await self._start_music()
            case PlayGreeting():
                return await self._play_greeting()
            case AnnouncePosition(expected_wait=expected_wait, callback_key=key):
                await self._announce_position(expected_wait, key)
            case OfferCallback(key=key):
                await self._announce(None, key)
            case ConfirmCallback():
                await self._confirm_callback()
            case CallBack(member_id=member_id, ring_time=ring_time):
                return await self._call_back(self.legs[member_id], ring_time)
            case CallbackRetryLater(tries=tries, seconds=seconds):
                await self._callback_retry_later(tries, seconds)
            case KeepCallbackRequest(tries=tries):
                await self._keep_callback_request(tries)
            case FetchCandidates(exclude=exclude):
                # Who is free, and the line ahead of this call: one read.
                if self.ctx.line is None:
                    found, line = await repo.candidates(self.route.team_id, now=now(), exclude=exclude), LineView()
                else:
                    assert self.arrived_at is not None
                    found, line = await repo.candidates_in_line(
                        self.route.team_id, self.call_id, arrived_at=self.arrived_at, now=now(),
                        exclude=exclude)
                return CandidatesFetched(tuple(found), line, now=now())
            case JoinLine(arrived_at=arrived_at):
                await self._join_line(arrived_at)
            case LeaveLine():
                await self._leave_line()
            case Dial(member_id=member_id, ring_time=ring_time):
                return await self._dial(member_id, ring_time)
            case HangupLeg(member_id=member_id, answered_elsewhere=elsewhere):
                leg = self.legs.get(member_id)
                if leg is not None and leg.claimed:
                    # ARI's answered_elsewhere is Q.850 cause 26: chan_pjsip puts it in the
                    # CANCEL's Reason header, and phones then show no missed call.
                    if elsewhere:
                        await self._quietly(ari.hangup(leg.channel_id, reason="answered_elsewhere"))
                    else:
                        await self._quietly(ari.hangup(leg.channel_id))
            case Bridge(member_id=member_id):
                # Neither music nor a greeting may go on into the conversation.
                await self._stop_caller_media()
                await self._stop_prompt(self.legs[member_id])
                if self._calling_back:
                    # The member heard ringing while the caller's phone rang: it stops now.
                    await self._quietly(ari.ring_stop(self.legs[member_id].channel_id))
                await self._bridge(self.legs[member_id])
            case HangupCaller():
                await self._quietly(ari.hangup(self.caller_channel_id))
            case StartTimer(name=name, seconds=seconds):
                self._cancel_timer(name)
                loop = asyncio.get_running_loop()
                self._timers[name] = loop.call_later(seconds, self.inbox.put_nowait, TimerExpired(name))
            case CancelTimer(name=name):
                self._cancel_timer(name)
            case RecordAttempt(member_id=member_id, result=result):
                leg = self.legs.get(member_id)
                if leg is not None and leg.claimed:
                    await repo.attempt_ended(leg.attempt_id, result, now=now())
                    self.ctx.metrics.attempt_ended(result, self._ring_seconds(leg))
                    self.log.info("attempt_ended", member=str(member_id), result=str(result))
                    self._member_freed(result)
            case MarkUnavailableIfMissed(member_id=member_id, threshold=threshold):
                leg = self.legs.get(member_id)
                if leg is not None and leg.claimed and await repo.mark_unavailable_after_misses(
                        member_id, threshold, now=now()):
                    self.log.warning("member_auto_unavailable", member=str(member_id), misses=threshold)
            case RecordAnswer(member_id=member_id):
                leg = self.legs[member_id]
                leg.rang_for = self._ring_seconds(leg)
                await asyncio.gather(repo.attempt_answered(leg.attempt_id, now=now()),
                                     repo.call_answered(self.call_id, member_id, now=now()))
                self.log.info("call_answered", member=str(member_id))
            case RunFallback(outcome=outcome, target=target):
                return await self._fallback(outcome, plan_fallback(
                    target, self.dialled, outcome=outcome, policy=self.ctx.fallbacks,
                    tenant_id=self.route.tenant_id))
            case FinishCall(outcome=outcome, wait_seconds=wait, talk_seconds=talk):
                await repo.finish_call(self.call_id, outcome, now=now(),
                                       wait_seconds=wait, talk_seconds=talk)
                self.ctx.metrics.call_finished(outcome, wait)
                self.log.info("call_finished", outcome=str(outcome), wait_seconds=_rounded(wait),
                              talk_seconds=_rounded(talk))
            case AskConfirmation(member_id=member_id, callback=callback):
                leg = self.legs[member_id]
                leg.prompt_id = str(uuid.uuid4())
                if callback:
                    # The caller's number in the team's language (Asterisk picks its digits).
                    await self._quietly(ari.set_variable(leg.channel_id, "CHANNEL(language)",
                                                         self.route.language))
                    prompt = callback_prompt(self._callback_number or "", self.policy.accept_key)
                else:
                    prompt = confirmation_prompt(self.route, self.dialled, self.policy.accept_key)
                await self._quietly(ari.play(leg.channel_id, prompt, leg.prompt_id))
                self.log.info("confirmation_asked", member=str(member_id), callback=callback)
            case TellTooLate(member_id=member_id):
                leg = self.legs[member_id]
                await self._stop_prompt(leg)  # else "sorry" would wait for the prompt's end
                await self._quietly(ari.play(leg.channel_id, TOO_LATE_PROMPT))
            case SaveRoundRobin(position=position):
                await repo.save_rr_position(self.route.team_id, position)
        return None

    async def _dial(self, member_id: uuid.UUID, ring_time: float) -> Event | None:
        ctx = self.ctx
        leg = Leg(member_id, uuid.uuid4(), str(uuid.uuid4()))
        self.legs[member_id] = leg
        # Claim first: the database refuses a member who is already booked by any call on any node.
        # The phone is read in parallel with the claim (one round trip less before the ring).
        claimed, phone = await asyncio.gather(
            ctx.repo.claim(self.call_id, member_id, leg.attempt_id, leg.channel_id,
                           now=ctx.clock(), node=ctx.node),
            ctx.repo.member_phone(member_id))
        if not claimed:
            self.log.info("member_busy_elsewhere", member=str(member_id))
            return LegClaimFailed(member_id, now=ctx.clock())
        leg.claimed = True
        leg.dialled_at = ctx.clock()
        try:
            if phone is None:
                raise PhoneRejected("member has no phone this tenant may dial (gone, or a SIP "
                                    "endpoint not assigned to the tenant)")
            endpoint = dial_target(phone[0], phone[1], trunk_template=ctx.trunk_template)
        except PhoneRejected as exc:
            self.log.warning("member_phone_rejected", member=str(member_id), reason=str(exc))
            return LegEnded(member_id, None, now=ctx.clock())
        # Registered before the POST: the leg's first events can arrive before it returns.
        self.legs_by_channel[leg.channel_id] = leg
        ctx.register_leg(leg.channel_id, self)
        caller_id = member_caller_id(
            self.caller_number if ctx.caller_id_mode == "caller" else self.dialled,
            self.caller_name, self.route.label,
        )
        try:
            await ctx.ari.originate(
                endpoint, channel_id=leg.channel_id, app_args=LEG_ARG,
                timeout=math.ceil(ring_time) + ORIGINATE_GRACE_SECONDS,
                caller_id=caller_id or None,
            )
        except AriError as exc:
            self.log.warning("originate_failed", member=str(member_id), error=str(exc))
            return LegEnded(member_id, None, now=ctx.clock())
        self.log.info("member_dialled", member=str(member_id), attempt=len(self.legs))
        return None

    async def _stop_prompt(self, leg: Leg) -> None:
        # A member may press the key before the prompt ends. Asterisk carries out a channel's
        # requests one after another, and a playback holds its turn until the last item has
        # played: joining the bridge (or the next playback) would wait that long.
        if leg.prompt_id is not None:
            prompt_id, leg.prompt_id = leg.prompt_id, None
            await self._quietly(self.ctx.ari.stop_playback(prompt_id))

    async def _bridge(self, leg: Leg) -> None:
        ari = self.ctx.ari
        self.bridge_id = f"{BRIDGE_PREFIX}{self.call_id}"
        try:
            # Answering the caller and creating the bridge do not depend on each other: one
            # wait for Asterisk instead of two before the member hears the caller. Both finish
            # before either failure is raised, so the cleanup meets a settled bridge.
            for outcome in await asyncio.gather(
                    ari.answer(self.caller_channel_id),
                    ari.create_bridge(self.bridge_id, type="mixing", name=f"teamfoned call {self.call_id}"),
                    return_exceptions=True):
                if isinstance(outcome, BaseException):
                    raise outcome
            await ari.add_to_bridge(self.bridge_id, [self.caller_channel_id, leg.channel_id])
        except AriError as exc:
            # Either side hung up in the same instant: its hang-up event follows and ends the
            # call through the machine, so this is no failure of the call.
            self.log.warning("bridge_failed", member=str(leg.member_id), error=str(exc))
            return
        self.log.info("call_bridged", member=str(leg.member_id))

    # -- the waiting line -----------------------------------------------------------------

    async def _line_view(self, exclude: frozenset[uuid.UUID]) -> LineView:
        line = self.ctx.line
        if line is None:
            return LineView()
        assert self.arrived_at is not None
        try:
            return await line.line_view(self.route.team_id, self.call_id, arrived_at=self.arrived_at,
                                        now=self.ctx.clock(), exclude=exclude)
        except Exception as exc:
            # The database is away: free members come from the last known state; the machine
            # keeps a caller already waiting in line, routes a new one as before the line.
            self.log.warning("line_unknown", error=str(exc))
            return LineView(unknown=True)

    async def _join_line(self, arrived_at: datetime) -> None:
        signals = self.ctx.signals
        if signals is not None:
            signals.subscribe(self._wake)
        self.ctx.metrics.callers_waiting.inc()
        self._joined_line_at = self.ctx.clock()
        self.log.info("caller_waiting")
        if self.ctx.line is not None:
            try:
                # The line's entry refers to the call's row, which waits for a first claim
                # that a waiting caller has not had yet.
                await self.ctx.repo.write_call_row(self.call_id)
                await self.ctx.line.join_line(self.call_id, self.route.tenant_id, self.route.team_id,
                                              arrived_at=arrived_at, node=self.ctx.node,
                                              now=self.ctx.clock())
            except Exception as exc:
                # Unrecorded, the caller still waits here (woken by this node's signals); the
                # other nodes do not see them ahead.
                self.log.warning("line_join_not_recorded", error=str(exc))

    async def _announce_position(self, expected_wait: bool, callback_key: str | None) -> None:
        """Play "you are caller number N" (and the expected wait) to the waiting caller,
        unanswered (early media), and the callback offer after it when there is one."""
        if expected_wait and self.ctx.line is not None:
            line, minutes = await asyncio.gather(self._line_view(frozenset()), self._expected_wait())
        else:
            line, minutes = await self._line_view(frozenset()), None
        # No place to tell while the database is away; the offer still stands.
        position = None if line.unknown else line.ahead + 1
        if position is None and callback_key is None:
            return  # ringing or music goes on
        await self._announce(position, callback_key, None if position is None else minutes)

    async def _announce(self, position: int | None, callback_key: str | None,
                        minutes: int | None = None) -> None:
        ari = self.ctx.ari
        if callback_key is not None and not self._caller_answered:
            # A key pressed in early media rarely reaches us (carriers do not pass the caller's
            # media before the answer): a caller offered the callback is answered.
            self._caller_answered = True
            await self._quietly(ari.answer(self.caller_channel_id))
        # Music and the announcement never play at once: the music stops here, and the machine
        # starts it again when the announcement has played.
        await self._stop_music()
        await self._set_language()
        playback_id = str(uuid.uuid4())
        self._announcement = playback_id
        # The announcement replaces the ringing; the machine rings again when it has played.
        self.caller_ringing = False
        await self._quietly(ari.play(self.caller_channel_id,
                                     line_announcement(position, callback_key, minutes), playback_id))
        self.log.info("position_announced", position=position, expected_minutes=minutes,
                      callback_key=callback_key)

    async def _expected_wait(self) -> int | None:
        """The expected wait from the team's recent answered waits, read now (when it is due)."""
        assert self.ctx.line is not None
        try:
            waits = await self.ctx.line.recent_line_waits(
                self.route.team_id, since=self.ctx.clock() - WINDOW, limit=SAMPLES)
        except Exception as exc:
            self.log.warning("expected_wait_unknown", error=str(exc))
            return None  # the place alone, rather than no announcement
        return expected_wait_minutes(waits)

    async def _set_language(self) -> None:
        """The team's language on the caller's channel, once: Asterisk picks sounds and number
        rules by it."""
        if not self._language_set:
            self._language_set = True
            await self._quietly(self.ctx.ari.set_variable(
                self.caller_channel_id, "CHANNEL(language)", self.route.language))

    async def _play_greeting(self) -> Event | None:
        media = tenant_sound(self.route.tenant_id, self.route.greeting)
        if media is None:
            # A stored name that is no plain sound (a hand-edited row): the waiting sound at once.
            self.log.warning("greeting_refused", greeting=self.route.greeting)
            return GreetingFinished(now=self.ctx.clock())
        await self._set_language()
        self._greeting = str(uuid.uuid4())
        self.caller_ringing = False  # the greeting replaces the ringing
        try:
            await self.ctx.ari.play(self.caller_channel_id, f"sound:{media}", self._greeting)
        except AriError as exc:
            self._greeting = None
            self.log.info("greeting_not_played", error=str(exc))
            return GreetingFinished(now=self.ctx.clock())
        self.log.info("greeting_played")
        return None

    async def _start_music(self) -> None:
        """Music on hold of the team's class, if the sysadmin still allows it (else the first
        class allowed; none allowed any more: ringing, never silence)."""
        moh_class = self.ctx.fallbacks.music_class(self.route.moh_class)
        if moh_class != self.route.moh_class and self.route.moh_class is not None:
            self.log.warning("moh_class_refused", moh_class=self.route.moh_class, playing=moh_class)
        if moh_class is None:
            if not self.caller_ringing:
                self.caller_ringing = True
                await self._quietly(self.ctx.ari.ring(self.caller_channel_id))
            return
        # Asterisk answers MOH on an unanswered channel with progress (183): early media, so
        # the caller is not answered (and not charged) for waiting.
        self.caller_ringing = False
        self._music = True
        await self._quietly(self.ctx.ari.start_moh(self.caller_channel_id, moh_class))

    async def _stop_music(self) -> None:
        if self._music:
            self._music = False
            await self._quietly(self.ctx.ari.stop_moh(self.caller_channel_id))

    async def _stop_caller_media(self) -> None:
        """Stop whatever the daemon plays to the caller (before a bridge or the fallback): a
        playback holds the channel's turn, so the next request would wait for its end."""
        await self._stop_music()
        for playback_id in (self._greeting, self._announcement):
            if playback_id is not None:
                await self._quietly(self.ctx.ari.stop_playback(playback_id))
        self._greeting = self._announcement = None

    # -- the callback ---------------------------------------------------------------------

    def _callable_number(self) -> str | None:
        """The caller's number as a dialled number may be (E.164, an allowed country, not
        premium), None when it may not be called back (withheld, a desk phone, refused). A
        request taken before a restart is kept even if the team has switched the offer off
        since; its number is checked again all the same (the allowed countries may have
        changed)."""
        if self.route.callback_key is None and self.resumed is None:
            return None
        phones = self.ctx.fallbacks.phones
        return callable_number(self.caller_number, allowed_countries=phones.allowed_countries,
                               default_region=phones.default_region)

    async def _confirm_callback(self) -> None:
        ari = self.ctx.ari
        # Music, the greeting or an announcement would hold the confirmation back (a playback
        # holds the channel's turn) or play under it: all of it stops first.
        await self._stop_caller_media()
        self._confirmation = str(uuid.uuid4())
        await self._quietly(ari.play(self.caller_channel_id, CALLBACK_CONFIRMED, self._confirmation))
        self.log.info("callback_requested")
        if self.ctx.line is not None:
            try:
                await self.ctx.line.request_callback(self.call_id, now=self.ctx.clock())
            except Exception as exc:
                # Unrecorded, this node still calls back; other nodes do not see it as one.
                self.log.warning("callback_request_not_recorded", error=str(exc))

    async def _call_back(self, leg: Leg, ring_time: float) -> Event | None:
        """Call the caller from the team number; the member who accepted holds meanwhile."""
        ctx = self.ctx
        await self._stop_prompt(leg)
        # The member holds: they hear ringing (Asterisk plays it on an answered channel) until
        # the caller answers or the try ends.
        await self._quietly(ctx.ari.ring(leg.channel_id))
        try:
            if self._callback_number is None:
                raise PhoneRejected("the caller's number may not be dialled")
            # Checked again as it becomes a dial string.
            endpoint = dial_target(PhoneKind.E164, self._callback_number, trunk_template=ctx.trunk_template)
        except PhoneRejected as exc:
            self.log.warning("callback_number_rejected", reason=str(exc))
            return CallbackEnded(None, now=ctx.clock())
        channel_id = str(uuid.uuid4())
        # From now on "the caller" is this channel: hang-ups, the bridge and its events. Nothing
        # the daemon played to the first one plays on this one.
        self.caller_channel_id = channel_id
        self._music, self._greeting, self._announcement = False, None, None
        self._caller_channels.append(channel_id)
        self._calling_back, self._callback_up, self._caller_gone = True, False, False
        self.caller_ringing = True  # an outgoing call is never rung at
        ctx.register_leg(channel_id, self)
        try:
            await ctx.ari.originate(
                endpoint, channel_id=channel_id, app_args=LEG_ARG,
                timeout=math.ceil(ring_time) + ORIGINATE_GRACE_SECONDS,
                caller_id=self.dialled,  # the team number the caller dialled
            )
        except AriError as exc:
            self.log.warning("callback_originate_failed", error=str(exc))
            return CallbackEnded(None, now=ctx.clock())
        self.log.info("caller_called_back", member=str(leg.member_id), tries=self.machine.callback_tries + 1)
        return None

    async def _keep_callback_request(self, tries: int) -> None:
        """The daemon stops: the request stays in its line, open, for this node's next start."""
        self.ctx.metrics.callers_waiting.dec()
        self.log.warning("callback_kept_for_restart", tries=tries)
        if self.ctx.line is not None:
            try:
                await self.ctx.line.callback_retry_later(self.call_id, tries=tries, due_at=self.ctx.clock())
            except Exception as exc:
                self.log.warning("callback_tries_not_recorded", error=str(exc))

    async def _callback_retry_later(self, tries: int, seconds: float) -> None:
        self.log.info("callback_unanswered", tries=tries, retry_in=seconds)
        if self.ctx.line is None:
            return
        try:
            await self.ctx.line.callback_retry_later(
                self.call_id, tries=tries, due_at=self.ctx.clock() + timedelta(seconds=seconds))
        except Exception as exc:
            self.log.warning("callback_retry_not_recorded", error=str(exc))

    async def _leave_line(self) -> None:
        signals = self.ctx.signals
        if self._announcement is not None:
            # The caller is about to be bridged or moved: their announcement stops now.
            playback_id, self._announcement = self._announcement, None
            await self._quietly(self.ctx.ari.stop_playback(playback_id))
        self.ctx.metrics.callers_waiting.dec()
        if self._joined_line_at is not None:
            seconds = (self.ctx.clock() - self._joined_line_at).total_seconds()
            self.ctx.metrics.line_seconds.observe(max(0.0, seconds))
            self.log.info("caller_left_line", line_seconds=round(seconds, 3))
        if signals is not None:
            signals.unsubscribe(self._wake)
        if self.ctx.line is not None:
            try:
                await self.ctx.line.leave_line(self.call_id, now=self.ctx.clock())
            except Exception as exc:
                self.log.warning("line_leave_not_recorded", error=str(exc))
        if signals is not None:
            signals.line_moved()  # the callers behind this one moved up

    def _member_freed(self, result: AttemptResult) -> None:
        """A member's attempt ended: they are free now, or when their wrap-up ends."""
        if self.ctx.signals is not None:
            self.ctx.signals.member_freed(result, self.policy.wrap_up)

    def _wake(self) -> None:
        if not self._wake_queued and not self.machine.finished:
            self._wake_queued = True
            self.inbox.put_nowait(LINE_MOVED)

    async def _opening_hours(self) -> OpeningHours:
        """The team's hours as the machine needs them; whether it is open is the machine's call."""
        zone, tz = stored_zone(self.route.timezone)
        if zone != self.route.timezone:
            self.log.warning("team_timezone_unknown", timezone=self.route.timezone)
        around = self.ctx.clock().astimezone(tz).date()
        periods, holidays = await self.ctx.repo.opening_hours(self.route.team_id, around)
        return OpeningHours(tuple(periods), frozenset(holidays), tz)

    async def _fallback(self, outcome: CallOutcome, plan: FallbackPlan) -> Event | None:
        if plan.refused is not None:
            # The team's stored target breaks today's rules: the shipped context takes the call.
            self.log.warning("fallback_target_refused", reason=plan.refused, context=plan.context)
        self.log.info("fallback", kind=str(plan.kind), outcome=str(outcome))
        if self._caller_gone or self._in_fallback_dialplan:
            # Gone, or already in the dialplan (the runner stopped during the fallback): the
            # caller is not ours to move any more.
            return FallbackFinished(now=self.ctx.clock())
        ari = self.ctx.ari
        try:
            extension = plan.extension
            if plan.overflow_team is not None:
                number = await self.ctx.repo.team_number(self.route.tenant_id, plan.overflow_team)
                if number is None:
                    raise PhoneRejected(f"overflow team {plan.overflow_team!r} has no number")
                extension = number.lstrip("+")
            variables = list(plan.variables)
            if plan.dial_number is not None:
                variables.append(("TEAMFONED_DIAL", dial_target(
                    PhoneKind.E164, plan.dial_number, trunk_template=self.ctx.trunk_template)))
            await self._stop_caller_media()  # the dialplan's sounds are the fallback's own
            for name, value in variables:
                await ari.set_variable(self.caller_channel_id, name, value)
            self._in_fallback_dialplan = True
            await ari.continue_in_dialplan(self.caller_channel_id, context=plan.context,
                                           extension=extension, priority=plan.priority)
        except (AriError, PhoneRejected) as exc:
            # The configured fallback cannot run: the shipped fallback context still can.
            self.log.warning("fallback_failed", error=str(exc))
            try:
                await ari.continue_in_dialplan(self.caller_channel_id, context=DEFAULT_CONTEXT,
                                               extension=self.dialled, priority=1)
            except AriError:
                await self._quietly(ari.hangup(self.caller_channel_id))
                return FallbackFinished(now=self.ctx.clock())
        return None  # FallbackFinished comes with the caller's StasisEnd

    # -- clean-up -------------------------------------------------------------------------

    async def _cleanup(self) -> None:
        if self.ctx.signals is not None:
            self.ctx.signals.unsubscribe(self._wake)
        for name in list(self._timers):
            self._cancel_timer(name)
        for channel_id in self.legs_by_channel:
            self.ctx.forget_channel(channel_id)
        for channel_id in self._caller_channels:
            self.ctx.forget_channel(channel_id)
        if self.bridge_id is not None:
            await self._quietly(self.ctx.ari.destroy_bridge(self.bridge_id))

    def _ring_seconds(self, leg: Leg) -> float | None:
        if leg.rang_for is not None:
            return leg.rang_for
        if leg.dialled_at is None:
            return None
        return max(0.0, (self.ctx.clock() - leg.dialled_at).total_seconds())

    def _cancel_timer(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    async def _quietly(self, coro: Awaitable[Any]) -> None:
        """Best-effort ARI call: a channel that is already gone is not an error for us."""
        try:
            await coro
        except AriError as exc:
            self.log.info("ari_call_ignored", error=str(exc))


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 3)

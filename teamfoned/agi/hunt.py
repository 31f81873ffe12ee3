"""One FastAGI call's hunt: the Stasis path's call machine, its answers carried out as channel variables.

The machine (teamfoned.routing) decides as it does for a Stasis call: the same candidates,
atomic claims, strategies, opening hours, fallbacks and records. The difference is who
rings: here the site's dialplan runs Dial() for each wave and reports back (`result`), so
HangupLeg, Bridge and HangupCaller need nothing from us (Dial does them) and ring timers are
Dial's timeout. Call confirmation is a Stasis feature: an AGI team's legs ring without it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from teamfoned.agi.dialstatus import AgiStatus, dial_events
from teamfoned.domain.phones import PhoneKind, PhoneRejected
from teamfoned.domain.team_settings import FallbackPolicy
from teamfoned.domain.timetable import stored_zone
from teamfoned.metrics import Metrics
from teamfoned.routing import (
    MAX_WAIT_TIMER,
    Action,
    CallerEntered,
    CallerHungUp,
    CallMachine,
    CallState,
    CancelTimer,
    CandidatesFetched,
    Dial,
    FallbackFinished,
    FetchCandidates,
    FinishCall,
    LegClaimFailed,
    LegEnded,
    MarkUnavailableIfMissed,
    MaxWaitReached,
    OpeningHours,
    RecordAnswer,
    RecordAttempt,
    RunFallback,
    RunnerStopped,
    SaveRoundRobin,
    StartTimer,
    StopReason,
)
from teamfoned.routing.events import Event, LegAnswered
from teamfoned.routing.model import CallOutcome, TeamRoute, WaitingSound
from teamfoned.telephony.dialstring import dial_target
from teamfoned.telephony.fallback import DEFAULT_CONTEXT, FallbackPlan, plan_fallback
from teamfoned.telephony.ports import DatabaseUnavailable, LineSignalling, RoutingStore
from teamfoned.telephony.prompts import TOO_LATE_SECONDS, member_caller_id

log = structlog.get_logger(__name__)

# The context of extensions_agi.conf.sample that routes a team number (an overflow re-enters it).
AGI_CONTEXT = "teamfoned-agi"
# A call whose dialplan never reports its end again (its h extension failed) still frees its
# member after this long in a call.
MAX_TALK_SECONDS = 4 * 3600
# Dial() counts its timeout in whole seconds: a max wait due within this is due now.
DIAL_GRANULARITY_S = 1.0

Variables = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AgiAnswer:
    """What a script tells the dialplan: TEAMFONED_STATUS and the variables that go with it."""

    status: AgiStatus
    variables: Variables = ()


@dataclass(frozen=True)
class AgiContext:
    """What every AGI call shares: built once by the daemon."""

    repo: RoutingStore
    clock: Callable[[], datetime]
    node: str
    trunk_template: str
    caller_id_mode: str
    confirm_time: float
    rng: random.Random
    claim_margin: float
    metrics: Metrics = field(default_factory=Metrics)
    fallbacks: FallbackPolicy = field(default_factory=FallbackPolicy)
    # An AGI call never waits in a line, but the members it frees are what Stasis callers
    # waiting in one are woken for.
    signals: LineSignalling | None = None


@dataclass
class _Leg:
    attempt_id: uuid.UUID
    claimed: bool = False
    target: str | None = None  # the dial string, once the claim held and the phone passed
    dialled_at: datetime | None = None


def shipped_fallback(extension: str) -> AgiAnswer:
    """The dialplan's own fallback context: for a call the daemon cannot (or no longer) route."""
    return AgiAnswer(AgiStatus.FALLBACK, (("TEAMFONED_FALLBACK_CONTEXT", DEFAULT_CONTEXT),
                                          ("TEAMFONED_FALLBACK_EXTEN", extension or "s")))


class AgiCall:
    """One caller's hunt through the dialplan: its machine, its claimed legs, its deadlines."""

    def __init__(self, ctx: AgiContext, route: TeamRoute, *, channel_id: str, dialled: str,
                 caller_number: str, caller_name: str) -> None:
        self.ctx = ctx
        self.route = route
        self.call_id = uuid.uuid4()
        self.channel_id = channel_id
        self.dialled = dialled
        self.caller_number = caller_number
        self.caller_name = caller_name
        policy = route.policy(confirm_time=ctx.confirm_time, too_late_seconds=TOO_LATE_SECONDS)
        # No confirmation and no waiting line over FastAGI (docs/fastagi.md): a wave nobody can
        # take ends the hunt in the fallback, as Dial() would. What the caller hears is the
        # site's Dial() too (its ringing or its m option), so no greeting or music from here.
        policy = dataclasses.replace(policy, confirm_calls=False, can_wait=False, greeting=False,
                                     waiting_sound=WaitingSound.RINGING)
        self.machine = CallMachine(self.call_id, policy, rng=ctx.rng, rr_position=route.rr_position)
        self.legs: dict[uuid.UUID, _Leg] = {}
        self._wave: list[uuid.UUID] = []  # dialled since the dialplan last heard from us
        self._due: dict[str, datetime] = {}  # the machine's timers and when they run out
        # The fallback the machine chose, with an overflow team's number looked up.
        self._plan: tuple[CallOutcome, FallbackPlan, str | None] | None = None
        self.lock = asyncio.Lock()  # one script at a time feeds the machine
        # loop time after which the call's claims are released (no result came back)
        self.expires_at: float | None = None
        self.log = log.bind(call_id=str(self.call_id), team=route.team_name, mode="agi")

    @property
    def finished(self) -> bool:
        return self.machine.finished

    # -- what the scripts report ----------------------------------------------------------

    async def start(self) -> AgiAnswer:
        """`route`: record the call and answer with its first wave (or its fallback)."""
        self.ctx.metrics.calls_in_progress.inc()
        now = self.ctx.clock()
        await self.ctx.repo.start_call(
            self.call_id, self.route.tenant_id, self.route.team_id,
            caller_number=self.caller_number or None, dialled_number=self.dialled,
            channel_id=self.channel_id, node=self.ctx.node, now=now)
        self.log.info("call_started", dialled=self.dialled, strategy=self.route.strategy)
        hours = await self._opening_hours()
        return await self._feed_and_answer([CallerEntered(hours, now=self.ctx.clock())])

    async def dial_result(self, status: str, peer: str, answered_seconds: float | None) -> AgiAnswer:
        """`result` (Dial returned) or `hangup` (the caller's channel ended): the wave's end."""
        now = self.ctx.clock()
        events: list[Event] = []
        if self._overdue(MAX_WAIT_TIMER, now):
            self._due.pop(MAX_WAIT_TIMER, None)
            events.append(MaxWaitReached(now=now))
        events += dial_events(
            status, ringing=self.machine.ringing_legs, answered_by=self._member_for(peer),
            already_answered=self.machine.state is CallState.CONNECTED,
            answered_seconds=answered_seconds, now=now)
        return await self._feed_and_answer(events)

    async def answered(self, peer: str) -> None:
        """`answered` (Dial's answer hook on the member's leg): every other leg stops now."""
        member_id = self._member_for(peer)
        if member_id is None:
            self.log.warning("agi_answer_unplaced", peer=peer)
            return
        await self._feed_and_answer([LegAnswered(member_id, now=self.ctx.clock())])

    async def hung_up(self, status: str, peer: str, answered_seconds: float | None) -> None:
        """`hangup` (the h extension): whatever happened, the call ends now."""
        if self.machine.state is CallState.HUNTING and status != "ANSWER":
            await self._feed_and_answer([CallerHungUp(now=self.ctx.clock())])
        else:
            await self.dial_result(status, peer, answered_seconds)
        if not self.finished:
            await self._feed_and_answer([CallerHungUp(now=self.ctx.clock())])

    async def stop(self, reason: StopReason) -> None:
        """The call cannot go on (no result in time, or the daemon stops): end it in the store."""
        self.log.warning("agi_call_stopped", reason=str(reason))
        await self._feed_and_answer([RunnerStopped(reason, now=self.ctx.clock())])

    # -- the machine --------------------------------------------------------------------

    async def _feed_and_answer(self, first: list[Event]) -> AgiAnswer:
        try:
            await self._feed(first)
        except DatabaseUnavailable as exc:
            self.log.error("call_not_routable", error=str(exc))
            await self._feed([RunnerStopped(StopReason.DATABASE_UNAVAILABLE, now=self.ctx.clock())])
        except Exception:
            self.log.exception("agi_call_failed")
            await self._feed([RunnerStopped(StopReason.RUNNER_FAILED, now=self.ctx.clock())])
        answer = self._answer()
        if self._plan is not None:
            # The dialplan takes the caller to the fallback now: the machine's part is over.
            self._plan = None
            await self._feed([FallbackFinished(now=self.ctx.clock())])
        self._set_expiry(answer)
        return answer

    async def _feed(self, first: list[Event]) -> None:
        pending: deque[Event] = deque(first)
        while pending:
            for action in self.machine.handle(pending.popleft()):
                follow_up = await self._carry_out(action)
                if follow_up is not None:
                    pending.append(follow_up)

    async def _carry_out(self, action: Action) -> Event | None:
        repo, now = self.ctx.repo, self.ctx.clock
        match action:
            case FetchCandidates(exclude=exclude):
                found = await repo.candidates(self.route.team_id, now=now(), exclude=exclude)
                return CandidatesFetched(tuple(found), now=now())
            case Dial(member_id=member_id):
                return await self._dial(member_id)
            case StartTimer(name=name, seconds=seconds):
                self._due[name] = now() + timedelta(seconds=seconds)
            case CancelTimer(name=name):
                self._due.pop(name, None)
            case RecordAttempt(member_id=member_id, result=result):
                leg = self.legs.get(member_id)
                if leg is not None and leg.claimed:
                    await repo.attempt_ended(leg.attempt_id, result, now=now())
                    rang = None if leg.dialled_at is None else (now() - leg.dialled_at).total_seconds()
                    self.ctx.metrics.attempt_ended(result, rang)
                    self.log.info("attempt_ended", member=str(member_id), result=str(result))
                    if self.ctx.signals is not None:
                        self.ctx.signals.member_freed(result, self.machine.policy.wrap_up)
            case MarkUnavailableIfMissed(member_id=member_id, threshold=threshold):
                leg = self.legs.get(member_id)
                if leg is not None and leg.claimed and await repo.mark_unavailable_after_misses(
                        member_id, threshold, now=now()):
                    self.log.warning("member_auto_unavailable", member=str(member_id), misses=threshold)
            case RecordAnswer(member_id=member_id):
                leg = self.legs[member_id]
                await repo.attempt_answered(leg.attempt_id, now=now())
                await repo.call_answered(self.call_id, member_id, now=now())
                self.log.info("call_answered", member=str(member_id))
            case RunFallback(outcome=outcome, target=target):
                plan = plan_fallback(target, self.dialled, outcome=outcome,
                                     policy=self.ctx.fallbacks, tenant_id=self.route.tenant_id)
                if plan.refused is not None:
                    self.log.warning("fallback_target_refused", reason=plan.refused)
                overflow = None
                if plan.overflow_team is not None:
                    overflow = await repo.team_number(self.route.tenant_id, plan.overflow_team)
                self._plan = (outcome, plan, overflow)
                self.log.info("fallback", kind=str(plan.kind), outcome=str(outcome))
            case FinishCall(outcome=outcome, wait_seconds=wait, talk_seconds=talk):
                await repo.finish_call(self.call_id, outcome, now=now(),
                                       wait_seconds=wait, talk_seconds=talk)
                self.ctx.metrics.call_finished(outcome, wait)
                self.ctx.metrics.calls_in_progress.dec()
                self.log.info("call_finished", outcome=str(outcome))
            case SaveRoundRobin(position=position):
                await repo.save_rr_position(self.route.team_id, position)
            # StartRinging, HangupLeg, HangupCaller, Bridge: Dial() does these in the dialplan.
            # AskConfirmation, TellTooLate: never asked for (no call confirmation here).
        return None

    async def _dial(self, member_id: uuid.UUID) -> Event | None:
        ctx = self.ctx
        leg = _Leg(uuid.uuid4())
        self.legs[member_id] = leg
        # The same claim as a Stasis leg: the database refuses a member booked by any call,
        # Stasis or AGI, on any node. The leg's channel is Dial's, unknown to us: none stored.
        claimed, phone = await asyncio.gather(
            ctx.repo.claim(self.call_id, member_id, leg.attempt_id, None, now=ctx.clock(), node=ctx.node),
            ctx.repo.member_phone(member_id))
        if not claimed:
            self.log.info("member_busy_elsewhere", member=str(member_id))
            return LegClaimFailed(member_id, now=ctx.clock())
        leg.claimed = True
        leg.dialled_at = ctx.clock()
        try:
            if phone is None:
                raise PhoneRejected("member has no phone this tenant may dial")
            leg.target = dial_target(phone[0], phone[1], trunk_template=ctx.trunk_template)
        except PhoneRejected as exc:
            self.log.warning("member_phone_rejected", member=str(member_id), reason=str(exc))
            return LegEnded(member_id, None, now=ctx.clock())
        self._wave.append(member_id)
        self.log.info("member_dialled", member=str(member_id), attempt=len(self.legs))
        return None

    # -- the answer to the dialplan -------------------------------------------------------

    def _answer(self) -> AgiAnswer:
        if self._plan is not None:
            outcome, plan, overflow = self._plan
            self._wave.clear()
            return self._fallback_answer(outcome, plan, overflow)
        wave = [m for m in self._wave if m in self.machine.ringing_legs]
        self._wave.clear()
        if wave and not self.finished:
            targets = [self.legs[m].target or "" for m in wave]
            now = self.ctx.clock()
            ring = self.machine.policy.ring_time
            max_wait_due = self._due.get(MAX_WAIT_TIMER)
            if max_wait_due is not None:
                # Dial cannot be stopped from here: it rings no longer than the caller may wait.
                ring = min(ring, (max_wait_due - now).total_seconds())
            caller_id = member_caller_id(
                self.caller_number if self.ctx.caller_id_mode == "caller" else self.dialled,
                self.caller_name, self.route.label)
            return AgiAnswer(AgiStatus.DIAL, (
                ("TEAMFONED_CALL", str(self.call_id)),
                ("TEAMFONED_DIAL", "&".join(targets)),
                ("TEAMFONED_RINGTIME", str(max(1, math.ceil(ring)))),
                ("TEAMFONED_CALLERID", caller_id or ""),
            ))
        return AgiAnswer(AgiStatus.DONE)

    def _fallback_answer(self, outcome: CallOutcome, plan: FallbackPlan,
                         overflow: str | None) -> AgiAnswer:
        context, extension = plan.context, plan.extension
        variables = list(plan.variables)
        if plan.overflow_team is not None:
            if overflow is None:
                self.log.warning("fallback_failed", error=f"overflow team {plan.overflow_team!r} has no number")
                return shipped_fallback(self.dialled)
            # The other team's number enters the same AGI dialplan again.
            context, extension = AGI_CONTEXT, overflow.lstrip("+")
        if plan.dial_number is not None:
            try:
                variables.append(("TEAMFONED_DIAL", dial_target(
                    PhoneKind.E164, plan.dial_number, trunk_template=self.ctx.trunk_template)))
            except PhoneRejected as exc:
                self.log.warning("fallback_failed", error=str(exc))
                return shipped_fallback(self.dialled)
        status = AgiStatus.CLOSED if outcome is CallOutcome.CLOSED else AgiStatus.FALLBACK
        return AgiAnswer(status, (("TEAMFONED_FALLBACK_CONTEXT", context),
                                  ("TEAMFONED_FALLBACK_EXTEN", extension or "s"), *variables))

    # -- helpers ----------------------------------------------------------------------------

    def _member_for(self, peer: str) -> uuid.UUID | None:
        """The member whose dial string Dial reports as DIALEDPEERNUMBER (`tech/` left off)."""
        peer = peer.strip()
        if not peer:
            return None
        for member_id, leg in self.legs.items():
            if leg.target is not None and leg.target.split("/", 1)[-1] == peer:
                return member_id
        return None

    def _overdue(self, name: str, now: datetime) -> bool:
        due = self._due.get(name)
        return due is not None and (due - now).total_seconds() < DIAL_GRANULARITY_S

    def _set_expiry(self, answer: AgiAnswer) -> None:
        loop_now = asyncio.get_running_loop().time()
        if self.finished:
            self.expires_at = None
        elif answer.status is AgiStatus.DIAL:
            ring = float(dict(answer.variables)["TEAMFONED_RINGTIME"])
            self.expires_at = loop_now + ring + self.ctx.claim_margin
        elif self.machine.state is CallState.CONNECTED:
            self.expires_at = loop_now + MAX_TALK_SECONDS

    async def _opening_hours(self) -> OpeningHours:
        zone, tz = stored_zone(self.route.timezone)
        if zone != self.route.timezone:
            self.log.warning("team_timezone_unknown", timezone=self.route.timezone)
        around = self.ctx.clock().astimezone(tz).date()
        periods, holidays = await self.ctx.repo.opening_hours(self.route.team_id, around)
        return OpeningHours(tuple(periods), frozenset(holidays), tz)

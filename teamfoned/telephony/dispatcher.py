"""Routes every ARI event to the call that owns its channel; a new caller in Stasis starts a call.

The dispatcher never awaits I/O for an event: it only puts events into the
owning call's inbox, so one slow call never delays another.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any

import structlog

from teamfoned.domain.team_settings import FallbackPolicy
from teamfoned.metrics import Metrics
from teamfoned.routing.model import CallOutcome, OpenCallState
from teamfoned.telephony.adopted import AdoptedCall
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.ari_errors import AriError
from teamfoned.telephony.ari_events import CALL_EVENTS, CLIENT_EVENTS
from teamfoned.telephony.fallback import DEFAULT_CONTEXT, UNKNOWN_NUMBER_CONTEXT
from teamfoned.telephony.line_runner import LineService
from teamfoned.telephony.ports import LineSignalling, RoutingStore, WaitingLineStore
from teamfoned.telephony.resync import (
    Adopt,
    CallerToFallback,
    CloseAttempt,
    CloseCall,
    DestroyBridge,
    HangupChannel,
    ResumeCallback,
    ResyncAction,
    plan_resync,
)
from teamfoned.telephony.runner import BRIDGE_PREFIX, LEG_ARG, CallRunner, InboxItem, RunnerContext

log = structlog.get_logger(__name__)

# An ARI event as the stream delivers it (JSON object).
AriEvent = dict[str, Any]
# A call's inbox: ARI events from here, expired timers from its runner.
Inbox = asyncio.Queue[InboxItem]


class CallDispatcher:
    def __init__(
        self,
        ari: AriClient,
        repo: RoutingStore,
        *,
        clock: Callable[[], datetime],
        node: str,
        trunk_template: str,
        caller_id_mode: str = "caller",
        confirm_time: float = 10.0,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        fallbacks: FallbackPolicy | None = None,
        line: WaitingLineStore | None = None,
        signals: LineSignalling | None = None,
    ) -> None:
        self.ari = ari
        self.repo = repo
        self._inboxes: dict[str, Inbox] = {}
        self._callers: set[str] = set()  # caller channel ids of running calls
        self._ready = asyncio.Event()  # run() owns a task group: resync may spawn
        self._calls: set[asyncio.Task[None]] = set()
        self._tasks: asyncio.TaskGroup | None = None
        self.accepting = True
        # Caller channels that another adapter of this daemon runs (FastAGI calls): the resync
        # leaves them and their records alone, as it does the calls running here.
        self.also_tracked: Callable[[], set[str]] = set
        # The availability line's numbers, served here when set (telephony.line_runner).
        self.line: LineService | None = None
        self.ctx = RunnerContext(
            ari=ari, repo=repo, clock=clock, node=node, trunk_template=trunk_template,
            caller_id_mode=caller_id_mode, confirm_time=confirm_time, register_leg=self._register, forget_channel=self._forget,
            rng=rng or random.Random(), metrics=metrics or Metrics(),
            fallbacks=fallbacks or FallbackPolicy(),
            line=line, signals=signals,
        )

    @property
    def calls_in_progress(self) -> int:
        return len(self._calls)

    async def run(self) -> None:
        """Dispatch events until the ARI client closes; every call task is owned here."""
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            self._ready.set()
            async for event in self.ari.events():
                self.dispatch(event)
            # The event stream ended (the daemon is stopping): calls still running are cancelled
            # by our owner; nothing is left unowned.
        self._tasks = None
        self._ready.clear()

    def dispatch(self, event: AriEvent) -> None:
        kind = event.get("type")
        if kind not in CALL_EVENTS:
            return  # changes nothing for any call: no task is woken for it
        channel = event.get("channel") or {}
        channel_id = channel.get("id") or _playback_channel(event)
        inbox = self._inboxes.get(channel_id) if channel_id else None
        if inbox is not None:
            inbox.put_nowait(event)
            return
        if kind != "StasisStart" or not channel_id:
            return
        args = event.get("args") or []
        if args and args[0] == LEG_ARG:
            # A member leg that no call owns (its call ended, or the daemon restarted): hang up.
            self._spawn(self._hangup_stray(channel_id))
            return
        dialled = args[0] if args else channel.get("dialplan", {}).get("exten", "")
        inbox = Inbox()
        self._inboxes[channel_id] = inbox
        self._callers.add(channel_id)
        if self.line is not None and self.accepting and self.line.serves(dialled):
            self._spawn(self._run_line(self.line, channel, inbox))
            return
        self._spawn(self._start_call(channel, dialled, inbox))

    def cancel_calls(self) -> int:
        """Cancel every call still running (the drain limit passed); returns how many."""
        running = [t for t in self._calls if not t.done()]
        for task in running:
            task.cancel()
        return len(running)

    async def wait_calls(self) -> None:
        while self._calls:
            await asyncio.wait(set(self._calls))

    async def resync(self) -> None:
        """After every (re)connect: put every call of this node back under control, or end it.

        Runs as the ARI client's on_connect hook, before any event of the new connection is
        delivered. Calls with a running runner hear about what they missed (a channel that is
        gone: ChannelDestroyed; a caller that left the app: StasisEnd). Open calls of this node
        that nothing runs (the daemon restarted) are planned by `plan_resync`: adopted, sent to
        the fallback, or closed. Channels in our app that nobody owns are released.
        """
        await self._ready.wait()
        try:
            # Per connection: only the events the daemon uses cross the WebSocket (about half
            # of what a call raises is of no use to it). An optimisation, never a condition.
            await self.ari.set_event_filter(CALL_EVENTS | CLIENT_EVENTS)
        except AriError as exc:
            log.warning("ari_event_filter_refused", error=str(exc))
        app = await self.ari.get_application()
        in_app = set(app.get("channel_ids") or [])
        channels = {c["id"] for c in await self.ari.list_channels()}
        bridges = {b["id"]: list(b.get("channels") or []) for b in await self.ari.list_bridges()
                   if str(b.get("id", "")).startswith(BRIDGE_PREFIX)}
        for channel_id, inbox in list(self._inboxes.items()):
            if channel_id not in channels:
                inbox.put_nowait({"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": None})
            elif channel_id in self._callers and channel_id not in in_app:
                inbox.put_nowait({"type": "StasisEnd", "channel": {"id": channel_id}})
        open_calls = await self.repo.open_call_states(self.ctx.node)
        known = {c.channel_id for c in open_calls} | {
            a.channel_id for c in open_calls for a in c.attempts}
        actions = plan_resync(open_calls, channels=channels, in_app=in_app, bridges=bridges,
                              tracked=set(self._inboxes) | self.also_tracked(), now=self.ctx.clock())
        for action in actions:
            await self._apply(action)
        orphans = in_app - set(self._inboxes) - known
        for channel_id in orphans:
            self._spawn(self._release_orphan(channel_id))
        log.info("ari_resynced", tracked=len(self._inboxes), in_app=len(in_app), channels=len(channels),
                 open_calls=len(open_calls), actions=len(actions), orphans=len(orphans))

    # -- internals ------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        if self._tasks is None:
            coro.close()
            return
        task = self._tasks.create_task(coro)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    def _register(self, channel_id: str, runner: CallRunner) -> None:
        self._inboxes[channel_id] = runner.inbox

    def _forget(self, channel_id: str) -> None:
        self._inboxes.pop(channel_id, None)
        self._callers.discard(channel_id)

    async def _run_line(self, line: LineService, channel: AriEvent, inbox: Inbox) -> None:
        try:
            await line.run(channel, inbox)
        finally:
            self._forget(channel["id"])

    async def _start_call(self, channel: AriEvent, dialled: str, inbox: Inbox) -> None:
        channel_id = channel["id"]
        try:
            if not self.accepting:
                # Draining for a stop: new callers get the dialplan fallback, as if we were down.
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=DEFAULT_CONTEXT, extension=dialled, priority=1))
                return
            # Ring at once: the caller must hear progress before any database work.
            ring = asyncio.ensure_future(self._quietly(self.ari.ring(channel_id)))
            try:
                route = await self.repo.team_for_number(dialled)
            except Exception as exc:
                # The database is away and what we remember is too old: the dialplan fallback.
                log.error("route_lookup_failed", dialled=dialled, error=repr(exc)[:300])
                await ring
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=DEFAULT_CONTEXT, extension=dialled or "s", priority=1))
                return
            if route is None:
                await ring
                log.warning("unknown_team_number", dialled=dialled)
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=UNKNOWN_NUMBER_CONTEXT, extension=dialled or "s", priority=1))
                return
            # The runner claims and dials the member while the ring is on its way; it waits
            # for the ring only before it acts on the caller's channel.
            runner = CallRunner(self.ctx, channel, dialled, route, inbox, caller_ringing=True,
                                caller_ring=ring)
            try:
                await runner.run()
            finally:
                if not ring.done():
                    await ring  # quiet: its failure is logged, never raised
        finally:
            self._forget(channel_id)

    async def _apply(self, action: ResyncAction) -> None:
        """Carry out one resync decision; a channel that vanished meanwhile is no error."""
        repo, now = self.repo, self.ctx.clock()
        match action:
            case Adopt(call=call, attempt=attempt, bridge_id=bridge_id):
                adopted_inbox = Inbox()
                for channel_id in (call.channel_id, attempt.channel_id):
                    if channel_id is not None:  # both are: resync found them talking
                        self._inboxes[channel_id] = adopted_inbox
                self._spawn(AdoptedCall(self.ctx, call, attempt, bridge_id, adopted_inbox).run())
            case HangupChannel(channel_id=channel_id, reason=reason):
                log.warning("resync_hangup", channel=channel_id, reason=reason)
                await self._quietly(self.ari.hangup(channel_id))
            case CallerToFallback(channel_id=channel_id, extension=extension):
                log.warning("resync_caller_to_fallback", channel=channel_id)
                # A caller who waited with music keeps it while parked in Stasis; the
                # fallback's own sounds follow without it.
                await self._quietly(self.ari.stop_moh(channel_id))
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=DEFAULT_CONTEXT, extension=extension, priority=1))
            case DestroyBridge(bridge_id=bridge_id):
                await self._quietly(self.ari.destroy_bridge(bridge_id))
            case CloseAttempt(attempt_id=attempt_id, result=result):
                await repo.attempt_ended(attempt_id, result, now=now)
            case CloseCall(call_id=call_id, outcome=outcome, wait_seconds=wait, talk_seconds=talk):
                await repo.finish_call(call_id, outcome, now=now, wait_seconds=wait, talk_seconds=talk)
                log.warning("resync_call_closed", call_id=str(call_id), outcome=outcome)
            case ResumeCallback(call=call):
                # Owned from now on under its caller's old channel id, so the next resync
                # leaves it to its runner.
                key = call.channel_id or f"callback-{call.call_id}"
                inbox = Inbox()
                self._inboxes[key] = inbox
                self._spawn(self._resume_callback(call, key, inbox))

    async def _resume_callback(self, call: OpenCallState, key: str, inbox: Inbox) -> None:
        try:
            route = await self.repo.team_for_number(call.dialled_number or "")
            if route is None or route.team_id != call.team_id:
                # Its number is no longer the team's: the request is listed to call back.
                log.warning("callback_not_resumed", call_id=str(call.call_id))
                await self.repo.finish_call(call.call_id, CallOutcome.CALLBACK_FAILED, now=self.ctx.clock(),
                                            wait_seconds=None, talk_seconds=None)
                return
            log.info("callback_resumed", call_id=str(call.call_id), tries=call.callback_tries)
            channel = {"id": key, "caller": {"number": call.caller_number or ""}}
            await CallRunner(self.ctx, channel, call.dialled_number or "", route, inbox, resumed=call).run()
        finally:
            self._forget(key)

    async def _hangup_stray(self, channel_id: str) -> None:
        log.info("stray_leg_hung_up", channel=channel_id)
        await self._quietly(self.ari.hangup(channel_id))

    async def _release_orphan(self, channel_id: str) -> None:
        try:
            channel = await self.ari.get_channel(channel_id)
        except AriError:
            return
        dialplan = channel.get("dialplan") or {}
        if dialplan.get("context") == "from-trunk" and channel.get("state") != "Up":
            log.warning("orphan_caller_to_fallback", channel=channel_id)
            await self._quietly(self.ari.continue_in_dialplan(
                channel_id, context=DEFAULT_CONTEXT, extension=dialplan.get("exten") or "s", priority=1))
        else:
            log.warning("orphan_channel_hung_up", channel=channel_id)
            await self._quietly(self.ari.hangup(channel_id))

    @staticmethod
    async def _quietly(coro: Awaitable[object]) -> None:
        try:
            await coro
        except AriError as exc:
            log.info("ari_call_ignored", error=str(exc))


def _playback_channel(event: AriEvent) -> str | None:
    """The channel a playback event is about (they name no channel of their own): a call's
    position announcement ends in its own inbox."""
    target = (event.get("playback") or {}).get("target_uri") or ""
    return target.removeprefix("channel:") if target.startswith("channel:") else None

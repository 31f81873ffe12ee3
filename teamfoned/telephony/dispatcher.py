"""Routes every ARI event to the call that owns its channel; a new caller in Stasis starts a call.

The dispatcher never awaits I/O for an event: it only puts events into the
owning call's inbox, so one slow call never delays another.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import datetime

import structlog

from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.ari_errors import AriError
from teamfoned.telephony.fallback import DEFAULT_CONTEXT, UNKNOWN_NUMBER_CONTEXT
from teamfoned.telephony.runner import LEG_ARG, CallRunner, RunnerContext

log = structlog.get_logger(__name__)


class CallDispatcher:
    def __init__(
        self,
        ari: AriClient,
        repo: RoutingRepository,
        *,
        clock: Callable[[], datetime],
        node: str,
        trunk_template: str,
        caller_id_mode: str = "caller",
        rng: random.Random | None = None,
    ) -> None:
        self.ari = ari
        self.repo = repo
        self._inboxes: dict[str, asyncio.Queue] = {}
        self._calls: set[asyncio.Task] = set()
        self._tasks: asyncio.TaskGroup | None = None
        self.accepting = True
        self.ctx = RunnerContext(
            ari=ari, repo=repo, clock=clock, node=node, trunk_template=trunk_template,
            caller_id_mode=caller_id_mode, register_leg=self._register, forget_channel=self._forget,
            rng=rng or random.Random(),
        )

    @property
    def calls_in_progress(self) -> int:
        return len(self._calls)

    async def run(self) -> None:
        """Dispatch events until the ARI client closes; every call task is owned here."""
        async with asyncio.TaskGroup() as tasks:
            self._tasks = tasks
            async for event in self.ari.events():
                self.dispatch(event)
            # The event stream ended (the daemon is stopping): calls still running are cancelled
            # by our owner; nothing is left unowned.
        self._tasks = None

    def dispatch(self, event: dict) -> None:
        kind = event.get("type")
        channel = event.get("channel") or {}
        channel_id = channel.get("id")
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
        inbox = asyncio.Queue()
        self._inboxes[channel_id] = inbox
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
        """After every (re)connect: compare what Asterisk holds in our app with what we track.

        Channels we track that are gone were missed while disconnected: their calls hear of it
        as a destroyed channel. Channels we do not track belong to no call of ours: a caller
        goes to the dialplan fallback, anything else is hung up.
        """
        app = await self.ari.get_application()
        present = set(app.get("channel_ids") or [])
        for channel_id, inbox in list(self._inboxes.items()):
            if channel_id not in present:
                inbox.put_nowait({"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": None})
        for channel_id in present - set(self._inboxes):
            self._spawn(self._release_orphan(channel_id))
        log.info("ari_resynced", tracked=len(self._inboxes), in_app=len(present))

    # -- internals ------------------------------------------------------------------------

    def _spawn(self, coro) -> None:
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

    async def _start_call(self, channel: dict, dialled: str, inbox: asyncio.Queue) -> None:
        channel_id = channel["id"]
        try:
            if not self.accepting:
                # Draining for a stop: new callers get the dialplan fallback, as if we were down.
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=DEFAULT_CONTEXT, extension=dialled, priority=1))
                return
            # Ring at once: the caller must hear progress before any database work.
            ring = asyncio.ensure_future(self._quietly(self.ari.ring(channel_id)))
            route = await self.repo.team_for_number(dialled)
            await ring
            if route is None:
                log.warning("unknown_team_number", dialled=dialled)
                await self._quietly(self.ari.continue_in_dialplan(
                    channel_id, context=UNKNOWN_NUMBER_CONTEXT, extension=dialled or "s", priority=1))
                return
            runner = CallRunner(self.ctx, channel, dialled, route, inbox)
            await runner.run()
        finally:
            self._forget(channel_id)

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
    async def _quietly(coro) -> None:
        try:
            await coro
        except AriError as exc:
            log.info("ari_call_ignored", error=str(exc))

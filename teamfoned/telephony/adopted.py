"""A call adopted after a restart: caller and member still talk in our bridge; wait for its end, then record it.

No routing is left to do, so there is no machine: the first sign that either
side left (StasisEnd, ChannelDestroyed or ChannelLeftBridge, in whatever
order they come) ends the other side, the bridge and the record, once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import structlog

from teamfoned.routing.model import AttemptResult, CallOutcome, OpenAttempt, OpenCallState
from teamfoned.telephony.ari_errors import AriError
from teamfoned.telephony.runner import InboxItem

if TYPE_CHECKING:
    from teamfoned.telephony.runner import RunnerContext

log = structlog.get_logger(__name__)

_ENDING = frozenset({"StasisEnd", "ChannelDestroyed", "ChannelLeftBridge", "ChannelHangupRequest"})


class AdoptedCall:
    """Owns one adopted conversation until either party leaves."""

    def __init__(self, ctx: RunnerContext, call: OpenCallState, attempt: OpenAttempt, bridge_id: str,
                 inbox: asyncio.Queue[InboxItem]) -> None:
        self.ctx = ctx
        self.call = call
        self.attempt = attempt
        self.bridge_id = bridge_id
        self.inbox = inbox
        # Both exist: resync adopts only a caller and a member it found talking in our bridge.
        self.channels = {c for c in (call.channel_id, attempt.channel_id) if c is not None}
        self.log = log.bind(call_id=str(call.call_id), adopted=True)

    async def run(self) -> None:
        self.log.info("call_adopted", bridge=self.bridge_id, member=str(self.attempt.member_id))
        reason = "daemon_stopping"
        try:
            while True:
                event = await self.inbox.get()
                if not isinstance(event, dict):
                    # An adopted call starts no timers and waits in no line: nothing of its own
                    # expires or wakes it.
                    continue
                if event.get("type") in _ENDING and (event.get("channel") or {}).get("id") in self.channels:
                    reason = event["type"]
                    break
        finally:
            # Also on cancellation (drain limit): a call we cannot watch any more is ended
            # with its record, never left talking unrecorded.
            await asyncio.shield(self._finish(reason))

    async def _finish(self, reason: str) -> None:
        ari, repo, now = self.ctx.ari, self.ctx.repo, self.ctx.clock()
        for channel_id in self.channels:
            await self._quietly(ari.hangup(channel_id))
        await self._quietly(ari.destroy_bridge(self.bridge_id))
        answered_at = self.call.answered_at or self.attempt.answered_at
        talk = max(0.0, (now - answered_at).total_seconds()) if answered_at else None
        wait = max(0.0, (answered_at - self.call.started_at).total_seconds()) if answered_at else None
        await repo.attempt_ended(self.attempt.attempt_id, AttemptResult.ANSWERED, now=now)
        await repo.finish_call(self.call.call_id, CallOutcome.ANSWERED, now=now, wait_seconds=wait, talk_seconds=talk)
        for channel_id in self.channels:
            self.ctx.forget_channel(channel_id)
        self.log.info("call_finished", outcome=str(CallOutcome.ANSWERED), reason=reason,
                      talk_seconds=None if talk is None else round(talk, 3))

    async def _quietly(self, coro: Awaitable[object]) -> None:
        try:
            await coro
        except AriError as exc:
            self.log.info("ari_call_ignored", error=str(exc))

"""The FastAGI scripts the dialplan calls (route, result, answered, hangup), and the calls they share.

Script names and arguments, as asterisk-config/extensions_agi.conf.sample calls them:
    route,<dialled number>                         a new call: the first wave or the fallback
    result,<call id>,<DIALSTATUS>,<DIALEDPEERNUMBER>   Dial() returned: the next wave or the end
    answered,<call id>                             Dial's answer hook, on the member's leg
    hangup,<call id>,<DIALSTATUS>,<DIALEDPEERNUMBER>,<ANSWEREDTIME>   the h extension
    availability                                   the availability line (route said LINE)
Each answers with TEAMFONED_STATUS (teamfoned.agi.dialstatus.AgiStatus) and its variables.
"""

from __future__ import annotations

import asyncio
import uuid

import structlog

from teamfoned.agi.dialstatus import AgiStatus
from teamfoned.agi.hunt import AgiAnswer, AgiCall, AgiContext, shipped_fallback
from teamfoned.agi.line import availability_line
from teamfoned.agi.protocol import AgiRequest
from teamfoned.routing import StopReason
from teamfoned.telephony.line_runner import line_number
from teamfoned.telephony.ports import DatabaseUnavailable, LineStore

log = structlog.get_logger(__name__)

# How often calls whose dialplan stopped reporting are looked for.
EXPIRY_CHECK_S = 1.0


class AgiScripts:
    """Runs each FastAGI request's script; owns the calls in progress over FastAGI."""

    def __init__(self, ctx: AgiContext, *, line: LineStore | None = None,
                 line_numbers: tuple[str, ...] = (), default_region: str | None = None) -> None:
        self.ctx = ctx
        self.calls: dict[uuid.UUID, AgiCall] = {}
        self._line = line
        self._line_numbers = frozenset(line_numbers)
        self._default_region = default_region

    def channels(self) -> set[str]:
        """Caller channels of calls in progress here: the ARI resync leaves them alone."""
        return {call.channel_id for call in self.calls.values()}

    async def handle(self, request: AgiRequest) -> None:
        args = request.args
        script = request.script
        extension = request.headers.get("agi_extension", "s")
        if script == "availability" and self._line is not None:
            await availability_line(request, self._line, clock=self.ctx.clock,
                                    default_region=self._default_region)
            return
        if script == "route":
            answer = await self._route(request, args[0] if args else extension)
        elif script in ("result", "hangup", "answered"):
            call = self._call(args[0] if args else "")
            if call is None:
                # Not ours (any more): the daemon restarted, or the call's claims expired.
                answer = shipped_fallback(extension)
            else:
                answer = await self._report(call, script, args[1:], request)
        else:
            log.warning("agi_unknown_script", script=script)
            answer = shipped_fallback(extension)
        if script in ("hangup", "answered"):
            return  # the channel is gone, or not the caller's: nothing to tell the dialplan
        for name, value in answer.variables:
            await request.set_variable(name, value)
        await request.set_variable("TEAMFONED_STATUS", str(answer.status))

    async def run(self, closing: asyncio.Event) -> None:
        """Release the claims of calls that stopped reporting; at `closing`, end every call."""
        loop = asyncio.get_running_loop()
        while not closing.is_set():
            try:
                await asyncio.wait_for(closing.wait(), EXPIRY_CHECK_S)
            except TimeoutError:
                pass
            now = loop.time()
            for call in list(self.calls.values()):
                if closing.is_set() or (call.expires_at is not None and call.expires_at <= now):
                    reason = StopReason.DAEMON_STOPPING if closing.is_set() else StopReason.RUNNER_FAILED
                    async with call.lock:
                        if not call.finished:
                            await call.stop(reason)
                    self._forget(call)

    async def _route(self, request: AgiRequest, dialled: str) -> AgiAnswer:
        if self._line is not None and line_number(dialled, None) in self._line_numbers:
            return AgiAnswer(AgiStatus.LINE)
        try:
            route = await self.ctx.repo.team_for_number(dialled)
        except DatabaseUnavailable as exc:
            log.error("agi_route_unavailable", error=str(exc))
            return shipped_fallback(dialled)
        if route is None:
            log.info("agi_unknown_number", dialled=dialled)
            return AgiAnswer(AgiStatus.UNKNOWN)
        call = AgiCall(self.ctx, route, channel_id=request.headers.get("agi_uniqueid", ""),
                       dialled=dialled, caller_number=request.headers.get("agi_callerid", ""),
                       caller_name=request.headers.get("agi_calleridname", ""))
        if call.caller_number == "unknown":
            call.caller_number = ""
        if call.caller_name == "unknown":
            call.caller_name = ""
        self.calls[call.call_id] = call
        async with call.lock:
            try:
                answer = await call.start()
            except DatabaseUnavailable as exc:
                # Not even the call's record could be written: the dialplan's own fallback.
                log.error("agi_route_unavailable", error=str(exc))
                answer = shipped_fallback(dialled)
                self._forget(call)
                return answer
        if call.finished:
            self._forget(call)
        return answer

    async def _report(self, call: AgiCall, script: str, args: list[str],
                      request: AgiRequest) -> AgiAnswer:
        status = args[0].strip().upper() if args else ""
        peer = args[1] if len(args) > 1 else ""
        async with call.lock:
            if call.finished:
                answer = AgiAnswer(AgiStatus.DONE)
            elif script == "answered":
                # The member's leg names itself by the number it was dialled at (its DNID).
                await call.answered(args[0] if args and args[0] else request.headers.get("agi_dnid", ""))
                answer = AgiAnswer(AgiStatus.DONE)
            elif script == "hangup":
                await call.hung_up(status, peer, _float(args[2]) if len(args) > 2 else None)
                answer = AgiAnswer(AgiStatus.DONE)
            else:
                answer = await call.dial_result(status, peer, None)
        if call.finished:
            self._forget(call)
        return answer

    def _call(self, text: str) -> AgiCall | None:
        try:
            return self.calls.get(uuid.UUID(text))
        except ValueError:
            return None

    def _forget(self, call: AgiCall) -> None:
        self.calls.pop(call.call_id, None)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None

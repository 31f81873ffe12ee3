"""The ARI event WebSocket: read every message into a queue at once; reconnect with backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import msgspec
import structlog
import yarl

log = structlog.get_logger(__name__)

OnConnect = Callable[[], Awaitable[None]]

# The event types the daemon acts on: the runner's translation into the machine's events,
# adopted calls' ends and the dispatcher's new callers. Asterisk is asked for these only (the
# application's event filter) and only these wake a call's task, so a feature that reads
# another type adds it here (tests/unit/test_event_filter.py checks the modules against it).
CALL_EVENTS = frozenset({
    "StasisStart", "StasisEnd", "ChannelDestroyed", "ChannelHangupRequest", "ChannelStateChange",
    "ChannelDtmfReceived", "ChannelLeftBridge",
    # The availability line waits for its prompts to end before it listens for keys; the
    # call confirmation counts the time to press the key from its prompt's end; a waiting
    # caller's position announcement has played, and they hear ringing again.
    "PlaybackFinished",
})
# What the client itself reads besides: another client took our app name.
CLIENT_EVENTS = frozenset({"ApplicationReplaced"})

# Every event is decoded in the reader loop, which must keep up with Asterisk: msgspec's
# decoder takes half the time of the standard library's on a typical event (docs/benchmarks.md).
_decode = msgspec.json.Decoder().decode

# A handshake that hangs (half-open TCP, a stuck proxy) must not stall reconnecting forever.
_HANDSHAKE_TIMEOUT = 10.0
# Closing waits for the peer's close frame; a dead peer must not hold up close() for long.
_CLOSE_TIMEOUT = 2.0
# 2**32 times any sane minimum is far beyond any cap; a bigger exponent would overflow a float.
_MAX_EXPONENT = 32

_CLOSED = object()  # queued by close(): ends every events() iterator after what is already queued


def backoff_delay(attempt: int, *, minimum: float, maximum: float, rng: random.Random) -> float:
    """Seconds to wait before reconnect attempt number `attempt` (0 for the first retry).

    Full jitter over an exponentially growing window, so that many clients restarted together
    spread out: uniform in [minimum, min(maximum, minimum * 2**(attempt + 1))]. The floor of
    `minimum` means a server that accepts and drops at once never causes a tight loop.
    """
    if minimum <= 0 or maximum < minimum:
        raise ValueError(f"need 0 < minimum <= maximum, got {minimum}, {maximum}")
    exponent = min(max(attempt, 0) + 1, _MAX_EXPONENT)
    ceiling = min(maximum, minimum * 2.0**exponent)
    return rng.uniform(minimum, ceiling)


class EventStream:
    """One Stasis application's event stream, kept connected by `run()`.

    Events are decoded JSON objects (dicts) in arrival order. Messages of one connection are
    held back until the `on_connect` hook has finished for that connection (the daemon resyncs
    there), so a consumer never sees an event from a connection that was not resynced.
    """

    def __init__(
        self,
        *,
        url: yarl.URL,
        headers: Mapping[str, str],
        session: Callable[[], aiohttp.ClientSession],
        app: str,
        heartbeat: float,
        reconnect_min: float,
        reconnect_max: float,
        rng: random.Random,
    ) -> None:
        # Fail at construction, not on the first disconnect hours later.
        backoff_delay(0, minimum=reconnect_min, maximum=reconnect_max, rng=random.Random(0))
        if heartbeat <= 0:
            raise ValueError(f"heartbeat must be positive, got {heartbeat}")
        self._url = url
        self._headers = dict(headers)
        self._session = session
        self._app = app
        self._heartbeat = heartbeat
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._rng = rng
        # Unbounded on purpose: the reader must never wait for the consumer, or Asterisk drops
        # the connection (its websocket_write_timeout is 100 ms by default).
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._connected = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._hook_task: asyncio.Task[None] | None = None
        self._closing = False
        self.reconnects = 0
        self.on_connect: OnConnect | None = None

    @property
    def is_connected(self) -> bool:
        """True while a connection is up and its `on_connect` hook has completed."""
        return self._connected.is_set()

    @property
    def queued_events(self) -> int:
        """Events read from Asterisk and not yet taken by the consumer (for metrics)."""
        return self._queue.qsize()

    async def wait_connected(self) -> None:
        """Return once a connection is up and resynced (at once if it is now)."""
        await self._connected.wait()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event, in arrival order, until `close()` (events queued before it still come)."""
        while True:
            item = await self._queue.get()
            if item is _CLOSED:
                self._queue.put_nowait(_CLOSED)  # so that any other iterator ends too
                return
            yield item

    async def run(self) -> None:
        """Keep the WebSocket connected until `close()`; returns normally after `close()`.

        Run it as a task owned by the caller (for example in a TaskGroup).
        """
        if self._closing:
            raise RuntimeError("event stream is closed")
        if self._runner is not None:
            raise RuntimeError("run() is already running")
        self._runner = asyncio.current_task()
        try:
            await self._reconnect_forever()
        except asyncio.CancelledError:
            # close() cancels us; a cancellation from anyone else must still propagate.
            if self._closing and self._runner is not None and self._runner.uncancel() == 0:
                return
            raise
        finally:
            self._connected.clear()

    async def close(self) -> None:
        """Stop `run()` and wait until it has returned; end the `events()` iterators.

        Not from within `on_connect`: that hook belongs to `run()`, which close() waits for.
        """
        current = asyncio.current_task()
        if current is not None and current is self._hook_task:
            raise RuntimeError("close() called from on_connect would wait for itself")
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(_CLOSED)
        runner = self._runner
        if runner is None or runner.done():
            return
        runner.cancel()
        if runner is not current:
            await asyncio.wait({runner})

    async def _reconnect_forever(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0
        connected_once = False
        while True:
            up_since: float | None = None
            try:
                async with asyncio.timeout(_HANDSHAKE_TIMEOUT):
                    ws = await self._session().ws_connect(
                        self._url,
                        headers=self._headers,
                        heartbeat=self._heartbeat,  # pings: a dead peer is noticed in seconds
                        autoping=True,
                        **_close_timeout(),
                    )
                try:
                    if connected_once:
                        self.reconnects += 1
                    connected_once = True
                    up_since = loop.time()
                    log.info("ari_connected", app=self._app, reconnects=self.reconnects)
                    await self._serve(ws)
                    log.warning(
                        "ari_disconnected",
                        app=self._app,
                        close_code=ws.close_code,
                        error=repr(ws.exception()) if ws.exception() else None,
                    )
                finally:
                    self._connected.clear()
                    await ws.close()
            except aiohttp.WSServerHandshakeError as exc:
                # 401 means wrong credentials: keep trying (they may be fixed) but say so loudly.
                log.error("ari_connect_refused", app=self._app, status=exc.status)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("ari_connect_failed", app=self._app, error=repr(exc))

            # A connection that outlived the longest backoff was healthy: start over at the
            # minimum. A short-lived one counts as a failure so flapping backs off too.
            if up_since is not None and loop.time() - up_since >= self._reconnect_max:
                failures = 0
            delay = backoff_delay(
                failures, minimum=self._reconnect_min, maximum=self._reconnect_max, rng=self._rng
            )
            failures += 1
            log.info("ari_reconnect_scheduled", app=self._app, delay=round(delay, 3))
            await asyncio.sleep(delay)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read one connection until it ends, running the on_connect hook alongside."""
        gate = _Gate(self._queue)
        async with asyncio.TaskGroup() as tg:
            # The hook runs beside the reader, not before it: reading must start at once even
            # while the daemon resyncs, and the gate holds the new events back meanwhile.
            hook = self._hook_task = tg.create_task(self._resync(ws, gate))
            await self._read(ws, gate)
            # The connection is gone; a resync still running is moot (the next one redoes it).
            hook.cancel()

    async def _resync(self, ws: aiohttp.ClientWebSocketResponse, gate: _Gate) -> None:
        if self.on_connect is not None:
            try:
                await self.on_connect()
            except Exception:
                # Delivering events without a resync would feed the daemon a partial picture;
                # drop this connection so the hook is retried on the next one, after backoff.
                log.exception("ari_on_connect_failed", app=self._app)
                await ws.close()
                return
        gate.open()
        self._connected.set()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse, gate: _Gate) -> None:
        # This loop must never await anything but the socket: no handler runs here.
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                try:
                    event = _decode(msg.data)
                except msgspec.DecodeError:
                    log.warning("ari_event_not_json", app=self._app, size=len(msg.data))
                    continue
                if not isinstance(event, dict):
                    log.warning("ari_event_not_object", app=self._app)
                    continue
                if event.get("type") == "ApplicationReplaced":
                    # Another client took our app name; Asterisk sends us nothing more.
                    log.error("ari_application_replaced", app=self._app)
                gate.put(event)
            elif msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return
            else:
                log.warning("ari_unexpected_message", app=self._app, type=msg.type.name)


class _Gate:
    """Holds one connection's events until its resync is done, then passes them straight on."""

    def __init__(self, queue: asyncio.Queue[Any]) -> None:
        self._queue = queue
        self._held: list[dict[str, Any]] | None = []

    def put(self, event: dict[str, Any]) -> None:
        if self._held is None:
            self._queue.put_nowait(event)
        else:
            self._held.append(event)

    def open(self) -> None:
        # No await between flushing and switching over, so arrival order is kept.
        held, self._held = self._held or [], None
        for event in held:
            self._queue.put_nowait(event)


def _close_timeout() -> dict[str, Any]:
    # aiohttp 3.10 replaced the float `timeout` of ws_connect with ClientWSTimeout.
    if hasattr(aiohttp, "ClientWSTimeout"):
        return {"timeout": aiohttp.ClientWSTimeout(ws_receive=None, ws_close=_CLOSE_TIMEOUT)}
    return {"timeout": _CLOSE_TIMEOUT}

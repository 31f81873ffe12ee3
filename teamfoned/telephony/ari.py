"""Thin typed ARI client: the only place that speaks HTTP and WebSocket to Asterisk."""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, cast
from urllib.parse import quote

import aiohttp
import structlog
import yarl

from teamfoned.telephony.ari_errors import (
    AriConflict,
    AriError,
    AriNotFound,
    AriUnreachable,
    error_for_status,
)
from teamfoned.telephony.ari_events import EventStream, OnConnect, backoff_delay

__all__ = [
    "AriClient",
    "AriConflict",
    "AriError",
    "AriNotFound",
    "AriUnreachable",
    "backoff_delay",
]

log = structlog.get_logger(__name__)

# What Asterisk's SendDTMF accepts; anything else would be silently skipped by Asterisk.
_DTMF = re.compile(r"[0-9A-Da-d*#,]+")


class AriClient:
    """REST calls and the event stream of one Stasis application.

    Typical use::

        client = AriClient("http://127.0.0.1:8088", user, password, "teamfoned",
                           on_connect=resync)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(client.run())
            tg.create_task(dispatch(client.events()))  # hands each event to its call
            await shutdown_requested.wait()
            await client.close()  # run() returns and events() ends, so the group can exit

    Credentials travel only in the Authorization header (REST and WebSocket upgrade), never
    in a URL. Non-2xx answers raise `AriError` (`AriNotFound` for 404, `AriConflict` for 409);
    no answer at all raises `AriUnreachable`. Hanging up a channel or destroying a bridge
    that is already gone counts as done.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        app: str,
        *,
        session: aiohttp.ClientSession | None = None,
        heartbeat: float = 5.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 10.0,
        rng: random.Random | None = None,
        on_connect: OnConnect | None = None,
        allow_remote: bool = False,
        request_timeout: float = 10.0,
    ) -> None:
        """Check the settings; nothing connects until `run()` or a REST call.

        `on_connect` is awaited after every successful (re)connect, before any event of that
        connection is delivered: resync there (`get_application()`). If it raises, the
        connection is dropped and retried after backoff; it must not call `close()`.
        ARI is unencrypted HTTP with basic auth, so a host other than loopback is refused
        unless `allow_remote=True`.
        `session` is used but not closed by `close()`; without one the client makes its own.
        """
        if not app:
            raise ValueError("app name must not be empty")
        if request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive, got {request_timeout}")
        self._base = _checked_base_url(base_url, allow_remote=allow_remote)
        self._app = app
        self._auth_headers = {"Authorization": _basic_auth(username, password)}
        self._external_session = session
        self._own_session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        # The WebSocket lives on the same host: http -> ws, https -> wss.
        ws_base = self._base.with_scheme("wss" if self._base.scheme == "https" else "ws")
        self._stream = EventStream(
            # Quoted by hand so a space becomes %20, which every server decodes (not "+").
            url=yarl.URL(
                f"{ws_base}/ari/events?app={quote(app, safe='')}&subscribeAll=false",
                encoded=True,
            ),
            headers=self._auth_headers,
            session=self._session,
            app=app,
            heartbeat=heartbeat,
            reconnect_min=reconnect_min,
            reconnect_max=reconnect_max,
            # A fresh generator per client: a shared default would couple unrelated clients.
            rng=rng if rng is not None else random.Random(),
        )
        self._stream.on_connect = on_connect
        self._closed = False

    # ---- event stream ----------------------------------------------------------------------

    @property
    def app(self) -> str:
        """The Stasis application name."""
        return self._app

    @property
    def on_connect(self) -> OnConnect | None:
        """The resync hook (see `__init__`); may be set before `run()`."""
        return self._stream.on_connect

    @on_connect.setter
    def on_connect(self, hook: OnConnect | None) -> None:
        self._stream.on_connect = hook

    @property
    def is_connected(self) -> bool:
        """True while the event WebSocket is up and its `on_connect` hook has completed."""
        return self._stream.is_connected

    @property
    def reconnects(self) -> int:
        """Successful connections after the first one."""
        return self._stream.reconnects

    @property
    def queued_events(self) -> int:
        """Events received and not yet taken from `events()`."""
        return self._stream.queued_events

    async def wait_connected(self) -> None:
        """Return once the event stream is up and resynced."""
        await self._stream.wait_connected()

    async def run(self) -> None:
        """Keep the event WebSocket connected until `close()`; run it as an owned task.

        Connects `/ari/events?app=<app>&subscribeAll=false` with heartbeat pings, reads every
        message into an unbounded queue without waiting for the consumer, and reconnects with
        capped exponential backoff and full jitter. Returns normally after `close()`.
        """
        await self._stream.run()

    def events(self) -> AsyncIterator[dict[str, Any]]:
        """Async iterator over events (decoded JSON objects) in arrival order; ends at `close()`."""
        return self._stream.events()

    async def close(self) -> None:
        """Stop `run()` and wait for it, end `events()`, close the session the client made."""
        await self._stream.close()  # first: it refuses a call from on_connect, leaving all open
        self._closed = True
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    # ---- channels --------------------------------------------------------------------------

    async def answer(self, channel_id: str) -> None:
        """Answer a ringing incoming channel."""
        await self._call("POST", _path("channels", channel_id, "answer"))

    async def ring(self, channel_id: str) -> None:
        """Indicate ringing to the caller (ringback tone), without answering."""
        await self._call("POST", _path("channels", channel_id, "ring"))

    async def ring_stop(self, channel_id: str) -> None:
        """Stop indicating ringing."""
        await self._call("DELETE", _path("channels", channel_id, "ring"))

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang up a channel; a channel that is already gone (404) counts as hung up.

        `reason` is an ARI hang-up reason: normal, busy, congestion, no_answer, timeout,
        rejected, unallocated, normal_unspecified, answered_elsewhere, ...
        """
        try:
            await self._call("DELETE", _path("channels", channel_id), params={"reason": reason})
        except AriNotFound:
            log.debug("ari_hangup_gone", channel=channel_id)

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str,
        timeout: int,  # noqa: ASYNC109 - ARI's dial timeout, not an asyncio one
        app: str | None = None,
        app_args: str | None = None,
        caller_id: str | None = None,
        variables: Mapping[str, str] | None = None,
        originator: str | None = None,
    ) -> dict[str, Any]:
        """Dial `endpoint` into a Stasis app under our own `channel_id`; returns the channel.

        Register `channel_id` with your event routing before calling: `StasisStart` can arrive
        before this returns. `timeout` (seconds to ring) is required because Asterisk's default
        would silently override the call's own ring time. A repeated `channel_id` raises
        `AriConflict`: after an uncertain failure, a retry with the same id is idempotent.
        `app` defaults to this client's app.
        """
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            raise ValueError(f"timeout must be a positive int of seconds, got {timeout!r}")
        body: dict[str, Any] = {
            "endpoint": endpoint,
            "app": app or self._app,
            "timeout": timeout,
        }
        # Endpoint, caller id and variables carry member data: they go in the JSON body, which
        # Asterisk parses like query parameters, so they never appear in access logs.
        if app_args is not None:
            body["appArgs"] = app_args
        if caller_id is not None:
            body["callerId"] = caller_id
        if variables:
            body["variables"] = dict(variables)
        if originator is not None:
            body["originator"] = originator
        return await self._call_object("POST", _path("channels", channel_id), json=body)

    async def continue_in_dialplan(
        self,
        channel_id: str,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        label: str | None = None,
    ) -> None:
        """Leave Stasis and continue in the dialplan (by default after the Stasis() step)."""
        body = _present(context=context, extension=extension, priority=priority, label=label)
        await self._call("POST", _path("channels", channel_id, "continue"), json=body)

    async def get_channel(self, channel_id: str) -> dict[str, Any]:
        """The channel's current state; `AriNotFound` if it is gone."""
        return await self._call_object("GET", _path("channels", channel_id))

    async def list_channels(self) -> list[dict[str, Any]]:
        """Every channel Asterisk has (not only ours)."""
        return cast(list[dict[str, Any]], await self._call("GET", _path("channels")))

    # ---- media -----------------------------------------------------------------------------

    async def play(
        self, channel_id: str, media: str, playback_id: str | None = None
    ) -> dict[str, Any]:
        """Start playing `media`; returns the playback.

        `media` is one media URI ("sound:vm-press") or a list of them joined by commas
        ("sound:calling,digits:1"), as in ARI's own `media` query parameter: Asterisk plays
        the items in turn as one playback (PlaybackContinuing between items). An empty item
        raises `ValueError`. With `playback_id` the playback gets our id, so its events can be
        matched up.
        """
        uris = media.split(",")
        if not all(uris):
            raise ValueError(f"media has an empty item: {media!r}")
        parts = ("channels", channel_id, "play") + ((playback_id,) if playback_id else ())
        # A list goes as a JSON array: Asterisk splits a comma-joined `media` only in the query
        # string, while in a JSON body a string is one URI: "sound:vm-press,digits:1" would be
        # looked up as the sound file "vm-press,digits:1" and fail.
        return await self._call_object("POST", _path(*parts), json={"media": uris})

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback (a whole media list); one that has already ended (404) counts as
        stopped."""
        try:
            await self._call("DELETE", _path("playbacks", playback_id))
        except AriNotFound:
            log.debug("ari_playback_gone", playback=playback_id)

    async def start_moh(self, channel_id: str, moh_class: str | None = None) -> None:
        """Play music on hold to the channel (the default class unless `moh_class`)."""
        body = _present(mohClass=moh_class)
        await self._call("POST", _path("channels", channel_id, "moh"), json=body)

    async def stop_moh(self, channel_id: str) -> None:
        """Stop music on hold."""
        await self._call("DELETE", _path("channels", channel_id, "moh"))

    async def send_dtmf(self, channel_id: str, dtmf: str) -> None:
        """Send DTMF digits (0-9, A-D, *, #; a comma pauses)."""
        if not _DTMF.fullmatch(dtmf):
            raise ValueError(f"not DTMF digits: {dtmf!r}")
        await self._call("POST", _path("channels", channel_id, "dtmf"), json={"dtmf": dtmf})

    # ---- channel variables -----------------------------------------------------------------

    async def set_variable(self, channel_id: str, name: str, value: str) -> None:
        """Set a channel variable (or dialplan function, e.g. "CALLERID(name)")."""
        body = {"variable": name, "value": value}
        await self._call("POST", _path("channels", channel_id, "variable"), json=body)

    async def get_variable(self, channel_id: str, name: str) -> str | None:
        """A channel variable's value; None if it is unset.

        Asterisk answers 404 both for an unset variable and for a gone channel; both give None.
        """
        try:
            reply = await self._call(
                "GET", _path("channels", channel_id, "variable"), params={"variable": name}
            )
        except AriNotFound:
            return None
        return reply.get("value") if isinstance(reply, dict) else None

    # ---- bridges ---------------------------------------------------------------------------

    async def create_bridge(
        self, bridge_id: str, type: str = "mixing", name: str | None = None
    ) -> dict[str, Any]:
        """Create a bridge under our own id; returns it. `type` is ARI's comma list."""
        body = _present(type=type, name=name)
        return await self._call_object("POST", _path("bridges", bridge_id), json=body)

    async def add_to_bridge(self, bridge_id: str, channel_ids: list[str]) -> None:
        """Put channels into a bridge."""
        if not channel_ids:
            raise ValueError("no channels to add")
        body = {"channel": list(channel_ids)}
        await self._call("POST", _path("bridges", bridge_id, "addChannel"), json=body)

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Destroy a bridge; one that is already gone (404) counts as destroyed."""
        try:
            await self._call("DELETE", _path("bridges", bridge_id))
        except AriNotFound:
            log.debug("ari_bridge_gone", bridge=bridge_id)

    async def list_bridges(self) -> list[dict[str, Any]]:
        """Every bridge Asterisk has."""
        return cast(list[dict[str, Any]], await self._call("GET", _path("bridges")))

    # ---- application and system ------------------------------------------------------------

    async def get_application(self) -> dict[str, Any]:
        """Our Stasis app as Asterisk sees it: `channel_ids`, `bridge_ids`, ... (for resync)."""
        return await self._call_object("GET", _path("applications", self._app))

    async def set_event_filter(self, allowed: Iterable[str]) -> dict[str, Any]:
        """Have Asterisk send our app only these event types (Asterisk 22: `eventFilter`)."""
        body = {"allowed": [{"type": kind} for kind in sorted(allowed)], "disallowed": []}
        return await self._call_object("PUT", _path("applications", self._app, "eventFilter"), json=body)

    async def asterisk_info(self) -> dict[str, Any]:
        """Asterisk's build, system and status information (a cheap liveness check)."""
        return await self._call_object("GET", _path("asterisk", "info"))

    # ---- transport -------------------------------------------------------------------------

    def _session(self) -> aiohttp.ClientSession:
        if self._external_session is not None:
            return self._external_session
        if self._closed:
            raise RuntimeError("AriClient is closed")
        if self._own_session is None:
            # Made lazily: an aiohttp session must be created inside the running event loop.
            self._own_session = aiohttp.ClientSession()
        return self._own_session

    async def _call_object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        # ARI documents these answers as JSON objects; trust it, the REST layer stays thin.
        return cast(dict[str, Any], await self._call(method, path, **kwargs))

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """One REST request; the decoded JSON answer, or None for an empty one."""
        url = yarl.URL(str(self._base) + "/ari" + path, encoded=True)
        try:
            async with self._session().request(
                method,
                url,
                params=params,
                json=json,
                headers=self._auth_headers,
                timeout=self._timeout,
            ) as response:
                text = await response.text()
                status = response.status
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("ari_unreachable", method=method, path=path, error=repr(exc))
            raise AriUnreachable(None, method, path, repr(exc)) from exc
        body = _decode(text, content_type)
        if not 200 <= status < 300:
            log.info("ari_request_failed", method=method, path=path, status=status)
            raise error_for_status(status, method, path, body)
        log.debug("ari_request", method=method, path=path, status=status)
        return body


def _basic_auth(username: str, password: str) -> str:
    # RFC 7617: the first colon separates user from password, so a user name cannot hold one.
    if ":" in username:
        raise ValueError("ARI username must not contain ':'")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _checked_base_url(base_url: str, *, allow_remote: bool) -> yarl.URL:
    url = yarl.URL(base_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"ARI base_url must be http(s)://host:port, got {base_url!r}")
    if url.user is not None or url.password is not None:
        # URLs end up in logs; credentials belong in username/password only.
        raise ValueError("ARI base_url must not contain credentials")
    if url.query_string or url.fragment:
        raise ValueError("ARI base_url must not have a query or fragment")
    if url.scheme == "http" and not allow_remote and not is_loopback_host(url.host):
        raise ValueError(
            f"ARI host {url.host!r} is not loopback: basic auth over plain HTTP would cross the "
            "network; pass allow_remote=True if that is intended"
        )
    return url.with_path(url.path.rstrip("/"))


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses; any other name may resolve anywhere."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other host name may resolve anywhere


def _path(*segments: str) -> str:
    # Ids that Asterisk makes (e.g. "1700000000.12") or that arrive in events are quoted whole,
    # so a "/" or "?" in one can never reach another resource.
    for segment in segments:
        if not segment:
            raise ValueError("empty id in ARI path")
    return "".join("/" + quote(segment, safe="") for segment in segments)


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that were given: ARI applies its own defaults to absent ones."""
    return {key: value for key, value in fields.items() if value is not None}


def _decode(text: str, content_type: str) -> Any:
    if not text:
        return None
    if content_type == "application/json":
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text

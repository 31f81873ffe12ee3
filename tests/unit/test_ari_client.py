"""The ARI client against a small fake ARI server: real HTTP and WebSocket on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from teamfoned.telephony.ari import (
    AriClient,
    AriConflict,
    AriError,
    AriNotFound,
    AriUnreachable,
    backoff_delay,
)

USER, PASSWORD, APP = "ari-user", "s3cret pass", "team foned"
AUTH = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@dataclass
class Seen:
    """One request as the fake server received it."""

    method: str
    raw_path: str  # path and query exactly as sent
    query: dict[str, str]
    authorization: str | None
    body: Any


@dataclass
class FakeAri:
    """A scripted ARI server: records requests, hands each accepted WebSocket to the test."""

    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    # (method, path) -> (status, JSON body or None)
    replies: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    refuse_websocket: int | None = None  # a status to answer upgrades with, instead of accepting
    ws_attempts: int = 0
    deaf_connections: int = 0  # this many connections, from the first, never answer pings
    sockets: asyncio.Queue[web.WebSocketResponse] = field(default_factory=asyncio.Queue)

    async def events_ws(self, request: web.Request) -> web.StreamResponse:
        self.ws_attempts += 1
        self._record(request, None)
        if request.headers.get("Authorization") != AUTH:
            return web.Response(status=401)
        if self.refuse_websocket is not None:
            return web.Response(status=self.refuse_websocket)
        deaf = self.deaf_connections > 0
        self.deaf_connections -= 1
        ws = web.WebSocketResponse(autoping=not deaf)
        await ws.prepare(request)
        self.sockets.put_nowait(ws)
        async for _ in ws:  # keep reading so close frames and pings are answered
            pass
        return ws

    async def rest(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self._record(request, body)
        if request.headers.get("Authorization") != AUTH:
            return web.Response(status=401)
        default = (200, {}) if request.method == "GET" else (204, None)
        status, reply = self.replies.get((request.method, request.path), default)
        if reply is None:
            return web.Response(status=status)
        return web.json_response(reply, status=status)

    def _record(self, request: web.Request, body: Any) -> None:
        self.seen.append(
            Seen(
                request.method,
                request.raw_path,
                dict(request.query),
                request.headers.get("Authorization"),
                body,
            )
        )


@pytest.fixture
async def fake():
    server = FakeAri()
    app = web.Application()
    app.router.add_get("/ari/events", server.events_ws)
    app.router.add_route("*", "/ari/{tail:.*}", server.rest)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    server.url = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


@pytest.fixture
async def client(fake):
    ari = AriClient(
        fake.url,
        USER,
        PASSWORD,
        APP,
        heartbeat=1.0,
        reconnect_min=0.01,
        reconnect_max=0.05,
        rng=random.Random(7),
    )
    yield ari
    await ari.close()


async def start(client: AriClient, tg: asyncio.TaskGroup) -> asyncio.Task[None]:
    task = tg.create_task(client.run())
    async with asyncio.timeout(1):
        await client.wait_connected()
    return task


async def test_credentials_only_in_authorization_header(fake, client):
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)
        await client.answer("chan-1")
        await client.get_application()
        await client.close()

    assert [s.method for s in fake.seen] == ["GET", "POST", "GET"]
    ws_request = fake.seen[0]
    assert ws_request.query == {"app": APP, "subscribeAll": "false"}
    assert "app=team%20foned&" in ws_request.raw_path
    for s in fake.seen:
        assert s.authorization == AUTH
        assert "api_key" not in s.raw_path
        assert "s3cret" not in s.raw_path
    assert fake.seen[1].raw_path == "/ari/channels/chan-1/answer"
    assert fake.seen[2].raw_path == "/ari/applications/team%20foned"


async def test_wrong_credentials_are_refused_and_retried(fake):
    ari = AriClient(fake.url, USER, "wrong", APP, reconnect_min=0.01, reconnect_max=0.02)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(ari.run())
        await asyncio.sleep(0.15)
        assert not ari.is_connected
        assert fake.ws_attempts >= 2  # still trying, the password may be fixed
        with pytest.raises(AriError) as refused:
            await ari.asterisk_info()
        assert refused.value.status == 401
        await ari.close()


async def test_reader_keeps_reading_while_the_consumer_is_slow(fake, client):
    padding = "x" * 4000  # 500 events of 4 kB: more than socket buffers hold if nobody reads
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)
        ws = await fake.sockets.get()
        send_times: list[float] = []

        async def send_all() -> None:
            for n in range(500):
                started = time.perf_counter()
                await ws.send_str(json.dumps({"type": "Test", "n": n, "pad": padding}))
                send_times.append(time.perf_counter() - started)

        sender = tg.create_task(send_all())
        events = client.events()
        first = await anext(events)
        # The consumer is now "busy": it takes nothing for a while. The reader must not care.
        async with asyncio.timeout(1.5):
            await sender
            while client.queued_events < 499:
                await asyncio.sleep(0.01)
        assert max(send_times) < 0.1
        received = [first] + [await anext(events) for _ in range(499)]
        assert [e["n"] for e in received] == list(range(500))
        await client.close()


async def test_a_frame_that_is_no_json_object_is_skipped_and_reading_goes_on(fake, client):
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)
        ws = await fake.sockets.get()
        for frame in ('{"type": "StasisStart", "n": 1', "[1, 2]", '{"type": "StasisEnd", "n": 2}'):
            await ws.send_str(frame)
        events = client.events()
        assert await anext(events) == {"type": "StasisEnd", "n": 2}
        await client.close()


async def test_reconnects_and_resyncs_before_delivering_new_events(fake, client):
    timeline: list[str] = []
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1
        timeline.append(f"resync {calls} started")
        await client.get_application()  # what the daemon does: REST works during the hook
        if calls == 2:
            await asyncio.sleep(0.1)  # a slow resync: the new connection's events must wait
        timeline.append(f"resync {calls} done")

    client.on_connect = on_connect
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)
        first_ws = await fake.sockets.get()
        await first_ws.send_json({"type": "StasisStart", "n": 1})
        events = client.events()
        timeline.append(f"event {(await anext(events))['n']}")

        await first_ws.close()
        second_ws = await fake.sockets.get()
        # Sent right after the upgrade, while resync 2 is still running.
        await second_ws.send_json({"type": "StasisStart", "n": 2})
        async with asyncio.timeout(1):
            timeline.append(f"event {(await anext(events))['n']}")
        assert client.reconnects == 1
        assert client.is_connected
        await client.close()

    assert timeline == [
        "resync 1 started",
        "resync 1 done",
        "event 1",
        "resync 2 started",
        "resync 2 done",
        "event 2",
    ]
    assert sum(1 for s in fake.seen if s.raw_path.startswith("/ari/applications/")) == 2


async def test_a_failed_resync_drops_the_connection_and_retries(fake, client):
    calls = 0

    async def on_connect() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise AriUnreachable(None, "GET", "/applications/x", "boom")

    client.on_connect = on_connect
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)
        assert calls == 2
        assert client.reconnects == 1
        await client.close()


async def test_heartbeat_notices_a_peer_that_stopped_answering(fake):
    fake.deaf_connections = 1
    ari = AriClient(
        fake.url, USER, PASSWORD, APP, heartbeat=0.1, reconnect_min=0.01, reconnect_max=0.02
    )
    async with asyncio.TaskGroup() as tg:
        tg.create_task(ari.run())
        async with asyncio.timeout(1):
            await fake.sockets.get()  # the deaf one: the client must give up on it by itself
            await fake.sockets.get()
            await ari.wait_connected()
        assert ari.reconnects == 1
        await ari.close()


async def test_a_session_passed_in_is_used_and_left_open(fake):
    async with aiohttp.ClientSession() as session:
        ari = AriClient(fake.url, USER, PASSWORD, APP, session=session)
        await ari.answer("c1")
        await ari.close()
        assert not session.closed
        assert fake.seen[-1].authorization == AUTH  # per request, not a session default


def test_backoff_grows_and_is_capped():
    rng = random.Random(42)
    limits = {"minimum": 0.5, "maximum": 10.0}
    windows = []
    for attempt in range(12):
        samples = [backoff_delay(attempt, rng=rng, **limits) for _ in range(200)]
        ceiling = min(10.0, 0.5 * 2 ** (attempt + 1))
        assert all(0.5 <= s <= ceiling for s in samples)  # never below the floor: no tight loop
        windows.append(max(samples))
    assert windows[0] < windows[1] < windows[2] < windows[3]  # grows
    assert all(9.0 < w <= 10.0 for w in windows[5:])  # capped, and jitter spans the window
    assert backoff_delay(10_000, rng=rng, **limits) <= 10.0  # no float overflow
    # Seeded: the same sequence again.
    assert backoff_delay(3, rng=random.Random(1), **limits) == backoff_delay(
        3, rng=random.Random(1), **limits
    )
    with pytest.raises(ValueError):
        backoff_delay(0, minimum=0.0, maximum=1.0, rng=rng)


async def test_a_refusing_server_is_retried_without_a_tight_loop(fake):
    fake.refuse_websocket = 503
    ari = AriClient(fake.url, USER, PASSWORD, APP, reconnect_min=0.05, reconnect_max=0.1)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(ari.run())
        await asyncio.sleep(0.5)
        await ari.close()
    assert 2 <= fake.ws_attempts <= 11  # at most one attempt per reconnect_min, plus the first
    assert not ari.is_connected


async def test_hangup_and_destroy_of_something_gone_are_done(fake, client):
    fake.replies[("DELETE", "/ari/channels/gone")] = (404, {"message": "Channel not found"})
    fake.replies[("DELETE", "/ari/bridges/gone")] = (404, {"message": "Bridge not found"})
    fake.replies[("GET", "/ari/channels/gone")] = (404, {"message": "Channel not found"})

    fake.replies[("DELETE", "/ari/playbacks/gone")] = (404, {"message": "Playback not found"})

    await client.hangup("gone", reason="busy")
    await client.destroy_bridge("gone")
    await client.stop_playback("gone")
    assert fake.seen[0].query == {"reason": "busy"}
    with pytest.raises(AriNotFound) as missing:
        await client.get_channel("gone")  # only hang-up and destroy treat 404 as done
    assert (missing.value.status, missing.value.method) == (404, "GET")
    assert missing.value.path == "/channels/gone"


async def test_originate_sends_its_data_in_the_body_and_409_is_a_conflict(fake, client):
    path = "/ari/channels/leg-1"
    fake.replies[("POST", path)] = (200, {"id": "leg-1", "state": "Down"})
    channel = await client.originate(
        "PJSIP/+4930123@carrier",
        channel_id="leg-1",
        timeout=20,
        app_args="leg,call-9",
        caller_id="Team <+4930999>",
        variables={"TEAM": "sales"},
    )
    assert channel == {"id": "leg-1", "state": "Down"}
    sent = fake.seen[-1]
    assert sent.raw_path == path  # member data stays out of the URL
    assert sent.body == {
        "endpoint": "PJSIP/+4930123@carrier",
        "app": APP,
        "timeout": 20,
        "appArgs": "leg,call-9",
        "callerId": "Team <+4930999>",
        "variables": {"TEAM": "sales"},
    }

    fake.replies[("POST", path)] = (409, {"message": "Channel with given unique ID already exists"})
    with pytest.raises(AriConflict) as conflict:
        await client.originate("PJSIP/+4930123@carrier", channel_id="leg-1", timeout=20)
    assert conflict.value.status == 409
    assert conflict.value.body == {"message": "Channel with given unique ID already exists"}

    with pytest.raises(TypeError):
        await client.originate("PJSIP/x", channel_id="leg-2")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        await client.originate("PJSIP/x", channel_id="leg-2", timeout=0)


async def test_rest_methods_use_the_documented_routes(fake, client):
    fake.replies[("GET", "/ari/channels/c1/variable")] = (200, {"value": "42"})
    fake.replies[("GET", "/ari/channels/c1/variable")] = (200, {"value": "42"})
    await client.ring("c1")
    await client.ring_stop("c1")
    await client.play("c1", "sound:hello", playback_id="p1")
    await client.start_moh("c1")
    await client.stop_moh("c1")
    await client.send_dtmf("c1", "12#")
    await client.set_variable("c1", "TEAM", "sales")
    assert await client.get_variable("c1", "TEAM") == "42"
    await client.continue_in_dialplan("c1", context="after-stasis")
    await client.create_bridge("b1", name="call-9")
    await client.add_to_bridge("b1", ["c1", "c2"])
    await client.list_bridges()
    await client.list_channels()
    await client.asterisk_info()
    assert [(s.method, s.raw_path, s.body) for s in fake.seen] == [
        ("POST", "/ari/channels/c1/ring", None),
        ("DELETE", "/ari/channels/c1/ring", None),
        ("POST", "/ari/channels/c1/play/p1", {"media": ["sound:hello"]}),
        ("POST", "/ari/channels/c1/moh", {}),
        ("DELETE", "/ari/channels/c1/moh", None),
        ("POST", "/ari/channels/c1/dtmf", {"dtmf": "12#"}),
        ("POST", "/ari/channels/c1/variable", {"variable": "TEAM", "value": "sales"}),
        ("GET", "/ari/channels/c1/variable?variable=TEAM", None),
        ("POST", "/ari/channels/c1/continue", {"context": "after-stasis"}),
        ("POST", "/ari/bridges/b1", {"type": "mixing", "name": "call-9"}),
        ("POST", "/ari/bridges/b1/addChannel", {"channel": ["c1", "c2"]}),
        ("GET", "/ari/bridges", None),
        ("GET", "/ari/channels", None),
        ("GET", "/ari/asterisk/info", None),
    ]
    fake.replies[("GET", "/ari/channels/c1/variable")] = (404, {"message": "not found"})
    assert await client.get_variable("c1", "UNSET") is None
    with pytest.raises(ValueError):
        await client.send_dtmf("c1", "1; rm")


async def test_a_media_list_goes_as_a_json_array(fake, client):
    # In a JSON body Asterisk takes a string as one URI: the list must arrive as an array.
    await client.play("c1", "sound:calling,digits:3120555001,sound:vm-press,digits:1")
    assert fake.seen[-1].body == {
        "media": ["sound:calling", "digits:3120555001", "sound:vm-press", "digits:1"]}
    for bad in ("", "sound:calling,", "sound:calling,,digits:1"):
        with pytest.raises(ValueError, match="media has an empty item"):
            await client.play("c1", bad)
    assert len(fake.seen) == 1


async def test_an_id_cannot_reach_another_resource(fake, client):
    await client.answer("../bridges/x?y=1")
    assert fake.seen[-1].raw_path == "/ari/channels/..%2Fbridges%2Fx%3Fy%3D1/answer"


async def test_server_errors_and_no_server_are_typed():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ari = AriClient(f"http://127.0.0.1:{port}", USER, PASSWORD, APP)
    with pytest.raises(AriUnreachable) as unreachable:
        await ari.answer("c1")
    assert unreachable.value.status is None
    await ari.close()


async def test_server_error_status_is_kept(fake, client):
    fake.replies[("POST", "/ari/channels/c1/answer")] = (500, {"message": "Internal"})
    with pytest.raises(AriError) as failed:
        await client.answer("c1")
    assert type(failed.value) is AriError
    assert failed.value.status == 500


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3:8088", "http://pbx.example.org:8088", "http://0.0.0.0:8088"]
)
def test_a_remote_host_is_refused_unless_allowed(url):
    with pytest.raises(ValueError, match="not loopback"):
        AriClient(url, USER, PASSWORD, APP)
    AriClient(url, USER, PASSWORD, APP, allow_remote=True)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8088", "http://localhost:8088", "http://[::1]:8088"]
)
def test_loopback_hosts_are_accepted(url):
    AriClient(url, USER, PASSWORD, APP)


def test_credentials_in_the_url_are_refused():
    with pytest.raises(ValueError, match="credentials"):
        AriClient("http://u:p@127.0.0.1:8088", USER, PASSWORD, APP)


async def test_close_leaves_no_pending_tasks(fake, client):
    before = asyncio.all_tasks()
    run = asyncio.create_task(client.run())
    async with asyncio.timeout(1):
        await client.wait_connected()
    await fake.sockets.get()
    events = client.events()
    await client.close()

    assert run.done() and not run.cancelled() and run.exception() is None
    assert [e async for e in events] == []  # the iterator ends
    await asyncio.sleep(0.05)  # let the fake server's handler see the close
    assert asyncio.all_tasks() - before == set()
    await client.close()  # twice is fine


async def test_close_from_the_resync_hook_is_refused(fake, client):
    refused: list[Exception] = []

    async def on_connect() -> None:
        if not refused:
            try:
                await client.close()
            except RuntimeError as exc:
                refused.append(exc)
                raise

    client.on_connect = on_connect
    async with asyncio.TaskGroup() as tg:
        await start(client, tg)  # the refusal counted as a failed resync; the retry worked
        assert len(refused) == 1
        await client.close()

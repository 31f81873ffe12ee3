"""The FastAGI server against a scripted peer on loopback: requests, replies, and peers that misbehave."""

from __future__ import annotations

import asyncio

import pytest

from teamfoned.agi.protocol import AgiGone, AgiRequest, AgiServer, AgiTimeout, quote

HEADERS = (b"agi_network: yes\nagi_network_script: route\nagi_request: agi://127.0.0.1/route\n"
           b"agi_uniqueid: 1700000000.1\nagi_arg_1: 3120555200\nagi_arg_2: x y\n\n")


async def serve(handler, timeout: float = 5.0) -> AgiServer:
    server = AgiServer("127.0.0.1", 0, handler, timeout=timeout)
    await server.start()
    return server


async def test_a_request_is_read_and_its_commands_answered() -> None:
    seen: list[AgiRequest] = []

    async def handler(request: AgiRequest) -> None:
        seen.append(request)
        await request.set_variable("TEAMFONED_STATUS", "DIAL")

    server = await serve(handler)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(HEADERS)
    command = await reader.readline()
    assert command == b'SET VARIABLE TEAMFONED_STATUS "DIAL"\n'
    writer.write(b"100 Trying...\n200 result=1\n")
    assert await reader.read() == b""  # the script ended and closed the connection
    writer.close()
    await server.close()
    [request] = seen
    assert request.script == "route"
    assert request.args == ["3120555200", "x y"]
    assert request.headers["agi_uniqueid"] == "1700000000.1"


async def test_a_peer_that_closes_before_its_headers_end_never_stalls_the_loop() -> None:
    called = []

    async def handler(request: AgiRequest) -> None:
        called.append(request)

    server = await serve(handler)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(b"agi_network: yes\n")  # half a request, then EOF
    await writer.drain()
    writer.close()
    # The loop keeps running other work (a server that spins on EOF never lets this return).
    await asyncio.wait_for(asyncio.sleep(0.2), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""
    await server.close()
    assert called == []


async def test_a_peer_that_disconnects_mid_command_ends_the_script_with_agi_gone() -> None:
    failures: list[BaseException] = []

    async def handler(request: AgiRequest) -> None:
        try:
            await request.set_variable("A", "1")
        except AgiGone as exc:
            failures.append(exc)
            raise

    server = await serve(handler)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(HEADERS)
    await reader.readline()
    writer.write(b"200 res")  # half a reply, then the peer is gone
    writer.close()
    while not failures:
        await asyncio.sleep(0.05)
    await server.close()
    assert isinstance(failures[0], AgiGone)


async def test_a_peer_that_stops_talking_times_out() -> None:
    failures: list[BaseException] = []

    async def handler(request: AgiRequest) -> None:
        try:
            await request.set_variable("A", "1")
        except AgiTimeout as exc:
            failures.append(exc)
            raise

    server = await serve(handler, timeout=0.3)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(HEADERS)
    await reader.readline()  # and never answer
    assert await asyncio.wait_for(reader.read(), 10) == b""  # the server hung up on us
    writer.close()
    await server.close()
    assert isinstance(failures[0], AgiTimeout)


async def test_silent_peer_before_headers_is_dropped() -> None:
    server = await serve(lambda request: asyncio.sleep(0), timeout=0.3)
    reader, writer = await asyncio.open_connection(*server.address)
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    await server.close()


async def test_hangup_notice_and_usage_errors_are_read_through() -> None:
    replies = []

    async def handler(request: AgiRequest) -> None:
        replies.append(await request.command("BOGUS"))
        replies.append(await request.command("NOOP"))
        replies.append(request.hung_up)

    server = await serve(handler)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(HEADERS)
    await reader.readline()
    writer.write(b"520-Invalid command syntax.  Proper usage follows:\nUsage: x\n520 End of proper usage.\n")
    await reader.readline()
    writer.write(b"HANGUP\n511 result=-1 Command Not Permitted on a dead channel\n")
    await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await server.close()
    assert [r.code for r in replies[:2]] == [520, 511]
    assert replies[2] is True


@pytest.mark.parametrize("text, expected", [
    ("Reception: Jan", '"Reception: Jan"'),
    ('"Reception: Jan" <+31201234567>', '"\\"Reception: Jan\\" <+31201234567>"'),
    ('a\\b', '"a\\\\b"'),
    ("line\nSET VARIABLE X 1", '"lineSET VARIABLE X 1"'),
])
def test_values_are_quoted_as_one_argument(text: str, expected: str) -> None:
    assert quote(text) == expected


async def test_a_command_that_plays_may_take_longer_than_the_silence_timeout() -> None:
    replies = []

    async def handler(request: AgiRequest) -> None:
        replies.append(await request.command("GET DATA x 6000 1", reply_within=5))

    server = await serve(handler, timeout=0.2)
    reader, writer = await asyncio.open_connection(*server.address)
    writer.write(HEADERS)
    await reader.readline()
    await asyncio.sleep(0.5)  # longer than the server's timeout for a silent peer
    writer.write(b"200 result=3\n")
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await server.close()
    assert [(r.code, r.result) for r in replies] == [(200, "3")]

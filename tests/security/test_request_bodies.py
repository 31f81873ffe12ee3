"""Issue 12 #3: no request body is read before authentication, nor past its cap; the server's memory stays flat under a huge one."""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

from PIL import Image

from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

HUGE = 60 * 1024 * 1024
CHUNK = b"x" * 65_536  # one object sent again and again: the test itself holds no big body
# http.max_body_bytes: a small default.
DEFAULT_CAP = 65_536
# The uvicorn server runs inside this process: its peak memory may not grow by this much.
MEMORY_BOUND_KB = 30 * 1024


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    assert match, field
    return int(match.group(1))


def _reset_peak_memory() -> None:
    # Linux: writing 5 resets the peak resident set size (VmHWM) of this process.
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


# A valid JSON document of HUGE bytes: {"name": "xxx...x"}.
OPEN, CLOSE = b'{"name": "', b'"}'


def _json_pieces(total: int) -> Iterator[bytes]:
    yield OPEN
    filler = total - len(OPEN) - len(CLOSE)
    for _ in range(filler // len(CHUNK)):
        yield CHUNK
    yield CHUNK[:filler % len(CHUNK)]
    yield CLOSE


def _chunked(total: int) -> Iterator[bytes]:
    for piece in _json_pieces(total):
        if piece:
            yield b"%x\r\n" % len(piece) + piece + b"\r\n"
    yield b"0\r\n\r\n"


async def _raw_request(base_url: str, head: str, body: Iterator[bytes]) -> tuple[int, bytes, int]:
    """Sends the head, then the body while it is not answered; returns status, response body, bytes sent."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    sent = 0

    async def pump() -> None:
        nonlocal sent
        try:
            for chunk in body:
                writer.write(chunk)
                await writer.drain()
                sent += len(chunk)
                await asyncio.sleep(0)
        except (ConnectionError, OSError):
            pass  # the server stopped listening to the body: fine

    writer.write(head.encode("latin-1"))
    await writer.drain()
    pumping = asyncio.create_task(pump())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 60)
        status = int(status_line.split()[1])
        length = 0
        while (line := await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        content = await asyncio.wait_for(reader.readexactly(length), 10)
        return status, content, sent
    finally:
        pumping.cancel()
        writer.close()


async def _huge_unauthenticated(api: LiveApi, head: str, body: Iterator[bytes]) -> None:
    _reset_peak_memory()
    before = _status_kb("VmRSS")
    started = time.monotonic()
    status, content, sent = await _raw_request(api.base_url, head, body)
    elapsed = time.monotonic() - started
    grown = _status_kb("VmHWM") - before
    # Nothing like the 60 MB was held in memory, and the answer came long before they were sent.
    assert grown < MEMORY_BOUND_KB, f"the server's peak memory grew by {grown} kB"
    assert sent < HUGE // 2, f"the server read {sent} bytes before answering"
    assert elapsed < 15, elapsed
    assert status in (401, 413), content
    assert content.startswith(b'{"error":'), content


async def test_a_huge_unauthenticated_body_is_refused_without_reading_it(api: LiveApi) -> None:
    head = ("PATCH /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n")
    await _huge_unauthenticated(api, head, _json_pieces(HUGE))


async def test_a_huge_chunked_unauthenticated_body_is_refused_without_reading_it(
        api: LiveApi) -> None:
    head = ("PATCH /v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    await _huge_unauthenticated(api, head, _chunked(HUGE))


async def test_an_authenticated_body_over_the_cap_gets_413_and_writes_nothing(
        api: LiveApi) -> None:
    ann = api.world.auth("ann")
    cap = DEFAULT_CAP
    before = await api.snapshot()
    # A JSON body with a Content-Length over the cap.
    done = await api.client.patch("/v1/me", headers=ann, json={"name": "x" * (cap + 10)})
    assert done.status_code == 413, done.text
    assert error_of(done)["code"] == "too_large"

    # The same, chunked: no Content-Length to go by, the bytes are counted as they arrive.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"timezone": "Europe/Amsterdam", "periods": ['
        for _ in range(cap // 32):
            yield b'{"weekday": 0, "starts": "08:00", "ends": "09:00"},' + b" " * 12
        yield b'{"weekday": 0, "starts": "10:00", "ends": "11:00"}]}'

    done = await api.client.put("/v1/me/schedule", content=chunks(),
                                headers={**ann, "content-type": "application/json"})
    assert done.status_code == 413, done.text
    assert error_of(done)["code"] == "too_large"
    assert await api.snapshot() == before
    # The client is not held against it: a normal request goes through.
    assert (await api.client.patch("/v1/me", headers=ann, json={"name": "Ann A."})).status_code == 200


async def test_a_photo_keeps_its_own_larger_limit(api: LiveApi) -> None:
    carol = api.world.auth("carol")
    noise = Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    photo = out.getvalue()
    assert DEFAULT_CAP < len(photo) < api.settings.http.photo_max_bytes
    done = await api.client.put("/v1/me/photo", content=photo,
                                headers={**carol, "content-type": "image/png"})
    assert done.status_code == 204, done.text

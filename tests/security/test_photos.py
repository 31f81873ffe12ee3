"""Issue 12 #11: photos are stored re-encoded (no EXIF, nothing appended), pixel bombs refused unread, photos served inert."""

from __future__ import annotations

import io
import re
import struct
import time
import zlib

import httpx
import pytest
from PIL import Image, PngImagePlugin

from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

SCRIPT = b"<html><body><script>fetch('/v1/me').then(r => r.text()).then(alert)</script></body></html>"


def _jpeg_with_location() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x0110] = "Tracker 3000"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 22.0, 12.5)  # latitude
    gps[3], gps[4] = "E", (4.0, 53.0, 41.25)  # longitude
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG", exif=exif,
                                                    comment=b"home address here")
    return out.getvalue()


def _png_polyglot() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", SCRIPT.decode())
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 10)).save(out, "PNG", pnginfo=info)
    return out.getvalue() + SCRIPT


def _png_bomb(side: int = 10_000) -> bytes:
    """A valid grey PNG of side x side pixels (100 MB decoded) in about 100 kB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def _peak_kb() -> int:
    with open("/proc/self/status") as status:
        match = re.search(r"^VmHWM:\s+(\d+) kB", status.read(), re.MULTILINE)
    assert match
    return int(match.group(1))


async def _upload(api: LiveApi, who: str, data: bytes, kind: str) -> httpx.Response:
    return await api.client.put("/v1/me/photo", content=data,
                                headers={**api.world.auth(who), "content-type": kind})


async def test_a_jpeg_keeps_no_exif_location_or_comment(api: LiveApi) -> None:
    sent = _jpeg_with_location()
    assert b"Exif" in sent and b"SpyCam" in sent and b"home address" in sent  # the test's premise
    done = await _upload(api, "carol", sent, "image/jpeg")
    assert done.status_code == 204, done.text
    got = await api.client.get("/v1/me/photo", headers=api.world.auth("carol"))
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    for needle in (b"Exif", b"SpyCam", b"Tracker", b"home address"):
        assert needle not in got.content, needle
    image = Image.open(io.BytesIO(got.content))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert len(image.getexif()) == 0 and "comment" not in image.info
    # Still the same picture.
    red, green, blue = image.convert("RGB").getpixel((10, 10))
    assert red > 150 and green < 80 and blue < 80


async def test_a_png_polyglot_is_stored_without_its_script(api: LiveApi) -> None:
    carol = api.world.auth("carol")
    with_chunk = _png_polyglot()[:-len(SCRIPT)]  # a valid PNG, the script in a text chunk
    for sent in (with_chunk, _png_polyglot()):  # and the same with the script appended
        assert SCRIPT in sent
        done = await _upload(api, "carol", sent, "image/png")
        if sent is not with_chunk and done.status_code != 204:
            assert 400 <= done.status_code < 500 and error_of(done)  # refusing it is as good
            continue
        assert done.status_code == 204, done.text
        got = await api.client.get("/v1/me/photo", headers=carol)
        assert got.status_code == 200
        assert b"<script" not in got.content and b"<html" not in got.content
        assert got.content.endswith(b"IEND\xaeB`\x82")  # nothing after the image's end
        image = Image.open(io.BytesIO(got.content))
        assert image.format == "PNG" and image.size == (32, 32) and not image.text


# As in the daemon, where teamfoned.api.photos turns Pillow's warning into an error.
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
async def test_a_pixel_bomb_is_refused_from_its_header(api: LiveApi) -> None:
    bomb = _png_bomb()
    assert len(bomb) < api.settings.http.photo_max_bytes
    before = await api.snapshot()
    baseline = _peak_kb()
    started = time.monotonic()
    done = await _upload(api, "carol", bomb, "image/png")
    assert 400 <= done.status_code < 500, done.text
    assert error_of(done)["code"] == "invalid"
    assert time.monotonic() - started < 5
    # Never decoded: the 100 MB of pixels did not pass through the server's memory.
    assert _peak_kb() - baseline < 50 * 1024
    # Bytes that say one type and are another are refused too.
    assert (await _upload(api, "carol", _jpeg_with_location(), "image/png")).status_code == 422
    assert await api.snapshot() == before


async def test_photos_are_served_inert(api: LiveApi) -> None:
    carol = api.world.auth("carol")
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(out, "PNG")
    for data, kind, name in ((out.getvalue(), "image/png", "photo.png"),
                             (_jpeg_with_location(), "image/jpeg", "photo.jpg")):
        assert (await _upload(api, "carol", data, kind)).status_code == 204
        got = await api.client.get("/v1/me/photo", headers=carol)
        assert got.headers["content-type"] == kind
        assert got.headers["content-security-policy"] == "default-src 'none'"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-disposition"] == f"inline; filename={name}"
    # A teammate's photo too (Bob's was stored by the seed).
    desk, bob = api.world.teams["desk"], api.world.id("bob")
    got = await api.client.get(f"/v1/teams/{desk}/members/{bob}/photo",
                               headers=api.world.auth("ann"))
    assert got.status_code == 200
    assert got.headers["content-security-policy"] == "default-src 'none'"
    assert got.headers["content-disposition"] == "inline; filename=photo.png"

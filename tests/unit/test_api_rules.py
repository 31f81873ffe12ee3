"""The API's pure rules: photo checks, the failure limiter, line states, statistics, cursors, HTTP settings."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from teamfoned.api.photos import PhotoRefused, normalise_photo
from teamfoned.api.rate_limit import FailureLimiter
from teamfoned.config import ConfigError, settings_from_dict
from teamfoned.domain.errors import Invalid
from teamfoned.store.call_history import decode_cursor, encode_cursor
from teamfoned.store.line_state import LineState, line_state
from teamfoned.store.teams_repo import p90, summarise
from teamfoned.store.tokens_repo import TOKEN_PREFIX, new_token, token_hash

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def png(width: int, height: int, *, crc_ok: bool = True) -> bytes:
    def chunk(kind: bytes, body: bytes, ok: bool = True) -> bytes:
        crc = zlib.crc32(kind + body) ^ (0 if ok else 1)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header, crc_ok)
            + chunk(b"IDAT", zlib.compress(b"\x00" * (3 * width + 1) * height))
            + chunk(b"IEND", b""))


def jpeg(width: int, height: int) -> bytes:
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xfe\x00\x04hi" + sof + b"\xff\xda\x00\x02" + b"data" + b"\xff\xd9"


def real_jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 200)).save(out, "JPEG")
    return out.getvalue()


def test_photo_checks() -> None:
    assert normalise_photo(png(10, 20), "image/png")[1] == "image/png"
    assert normalise_photo(real_jpeg(640, 480), "image/jpeg")[1] == "image/jpeg"
    for data, kind in [(png(10, 20, crc_ok=False), "image/png"), (png(0, 1), "image/png"),
                       (png(20_000, 1), "image/png"), (png(1, 1)[:40], "image/png"),
                       (jpeg(0, 10), "image/jpeg"), (jpeg(10, 10)[:-2], "image/jpeg"),
                       (b"\xff\xd8\xff\xd9", "image/jpeg"), (png(1, 1), "image/jpeg"),
                       (b"<svg/>", "image/png"), (b"", "image/png")]:
        with pytest.raises(PhotoRefused):
            normalise_photo(data, kind)


def test_failure_limiter_window() -> None:
    limiter = FailureLimiter(per_minute=3)
    for second in range(3):
        assert limiter.retry_after("10.0.0.1", NOW + timedelta(seconds=second)) is None
        limiter.failed("10.0.0.1", NOW + timedelta(seconds=second))
    assert limiter.retry_after("10.0.0.1", NOW + timedelta(seconds=10)) == 50
    assert limiter.retry_after("10.0.0.2", NOW) is None  # per address
    assert limiter.retry_after("10.0.0.1", NOW + timedelta(seconds=60)) is None


def test_line_states() -> None:
    def state(**kw: object) -> LineState:
        base = {"available": True, "until": None, "open_attempt_answered": None,
                "last_answered_end": None, "wrap_up_s": 10, "now": NOW}
        return line_state(**{**base, **kw})  # type: ignore[arg-type]

    assert state() is LineState.idle
    assert state(open_attempt_answered=False, available=False) is LineState.ringing
    assert state(open_attempt_answered=True) is LineState.in_call
    assert state(last_answered_end=NOW - timedelta(seconds=9)) is LineState.wrap_up
    assert state(last_answered_end=NOW - timedelta(seconds=10)) is LineState.idle
    assert state(available=False) is LineState.unavailable
    assert state(until=NOW) is LineState.unavailable  # expired
    assert state(until=NOW + timedelta(seconds=1)) is LineState.idle


def test_statistics_and_p90() -> None:
    assert p90([]) is None and p90([5.0]) == 5.0
    assert p90([float(i) for i in range(1, 11)]) == 9.0
    stats = summarise([("answered", 2.0), ("answered", 4.0), ("abandoned", 30.0),
                       ("timed_out", 120.0), ("failed", None)])
    assert (stats.received, stats.answered, stats.abandoned, stats.missed) == (5, 2, 1, 2)
    assert (stats.average_wait_s, stats.p90_wait_s) == (3.0, 4.0)
    assert summarise([]).average_wait_s is None
    # A caller called back who talked with a member was answered; one who never answered the
    # callbacks was missed.
    called_back = summarise([("callback_answered", 60.0), ("callback_failed", 90.0)])
    assert (called_back.answered, called_back.missed, called_back.average_wait_s) == (1, 1, 60.0)
    assert (called_back.callbacks, called_back.callbacks_answered, stats.callbacks) == (2, 1, 0)


def test_cursor_round_trip_and_refusal() -> None:
    call = uuid.uuid4()
    assert decode_cursor(encode_cursor(NOW, call)) == (NOW, call)
    for bad in ["", "%%%", "bm9wZQ", encode_cursor(NOW, call)[:-3]]:
        with pytest.raises(Invalid):
            decode_cursor(bad)


def test_tokens_are_long_random_and_hashed() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert token.startswith(TOKEN_PREFIX) and len(token) - len(TOKEN_PREFIX) >= 43  # 256 bits
    assert len(token_hash(token)) == 64 and token not in token_hash(token)


@pytest.mark.parametrize(("http", "key"), [
    ({"listen": "0.0.0.0"}, "http.behind_proxy"),
    ({"listen": "::"}, "http.behind_proxy"),
    ({"tls_cert_file": "/etc/hostname"}, "http.tls_key_file"),
    ({"tls_cert_file": "/no/such/cert.pem", "tls_key_file": "/no/such/key.pem"},
     "http.tls_cert_file"),
    ({"proxy_addresses": ["proxy.example"]}, "http.proxy_addresses"),
])
def test_http_settings_refusals_name_the_key(http: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from_dict({"ari": {"password": "x"}, "http": http})
    assert any(p.startswith(f"{key}:") for p in refused.value.problems), refused.value.problems


def test_http_settings_accepted() -> None:
    for http in [{}, {"listen": "::1"}, {"listen": "0.0.0.0", "behind_proxy": True},
                 {"listen": "0.0.0.0", "tls_cert_file": "/etc/hostname",
                  "tls_key_file": "/etc/hostname"}]:
        settings = settings_from_dict({"ari": {"password": "x"}, "http": http})
        assert settings.http.tls == ("tls_cert_file" in http)

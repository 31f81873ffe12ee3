"""Log lines: JSON when not on a terminal, call ids kept, phone numbers masked unless debug."""

import io
import json
import logging

import structlog

from teamfoned.logs import configure_logging, mask_number


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_mask_every_phone_number_and_keep_the_call_id():
    out = io.StringIO()
    configure_logging("info", "auto", stream=out)  # a StringIO is no terminal: JSON
    log = structlog.get_logger("t").bind(call_id="c-1")
    log.info("call_started", dialled="3120555100", caller="+31612345678",
             dial="PJSIP/+31610000001@trunk", channel="1795810405.0", attempt=2)
    [line] = lines(out)
    assert line["event"] == "call_started" and line["call_id"] == "c-1" and line["level"] == "info"
    assert line["dialled"] == "31******00"
    assert line["caller"] == "+31*******78"
    assert line["dial"] == "PJSIP/+31*******01@trunk"
    assert line["channel"] == "1795810405.0" and line["attempt"] == 2
    assert "612345678" not in out.getvalue() and "610000001" not in out.getvalue()


def test_debug_logging_shows_numbers_in_full():
    out = io.StringIO()
    configure_logging("debug", "json", stream=out)
    structlog.get_logger("t").debug("member_dialled", phone="+31612345678")
    assert lines(out)[0]["phone"] == "+31612345678"


def test_console_format_is_readable_and_library_lines_share_it():
    out = io.StringIO()
    configure_logging("info", "console", stream=out)
    structlog.get_logger("t").info("daemon_ready", node="pbx1")
    logging.getLogger("uvicorn.error").warning("listening on %s", "+31612345678")
    text = out.getvalue()
    assert "daemon_ready" in text and "node=pbx1" in text and not text.lstrip().startswith("{")
    assert "listening on" in text and "612345678" not in text


def test_mask_number_keeps_prefix_and_last_two():
    assert mask_number("+31612345678") == "+31*******78"
    assert mask_number("123") == "***"


def test_tokens_are_redacted_even_in_debug_and_in_library_lines():
    out = io.StringIO()
    configure_logging("debug", "json", stream=out)
    structlog.get_logger("t").debug("oops", url="/v1/teams?token=tfd_abc123XYZ")
    logging.getLogger("httpx").warning("HTTP Request: GET /x?token=tfd_abc123XYZ")
    assert "abc123XYZ" not in out.getvalue() and out.getvalue().count("tfd_[redacted]") == 2

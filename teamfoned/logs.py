"""Log setup: structlog events with fields; JSON lines for the journal, readable lines on a terminal; phone numbers masked.

A call's lines carry its call_id (the runner binds it). Phone numbers are personal
data: they are masked in every line unless debug logging was asked for.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

# Fields that hold a phone number or a dialled number, with or without a leading "+".
PHONE_FIELDS = frozenset({"caller", "caller_number", "caller_id", "dialled", "dialled_number",
                          "number", "phone", "target", "endpoint", "fallback_number"})
# An E.164 number anywhere in a value ("+31612345678", "PJSIP/+31612345678@trunk"); Asterisk
# channel ids ("1795810405.0") have no "+" and are left alone.
E164 = re.compile(r"(?<![\w+])\+\d{6,15}(?!\d)")
DIGITS = re.compile(r"\d{5,}")
# An API token pasted where it does not belong (a URL in a library's line): never logged.
TOKEN = re.compile(r"tfd_[A-Za-z0-9_-]+")


def mask_number(number: str) -> str:
    """Keep the country prefix and the last two digits: enough to tell calls apart, not to dial."""
    head = 3 if number.startswith("+") else 2
    if len(number) <= head + 2:
        return "*" * len(number)
    return number[:head] + "*" * (len(number) - head - 2) + number[-2:]


def _mask_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        value = E164.sub(lambda m: mask_number(m.group(0)), value)
        if key in PHONE_FIELDS:
            value = DIGITS.sub(lambda m: mask_number(m.group(0)), value)
        return value
    if isinstance(value, dict):
        return {k: _mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_value(key, v) for v in value)
    return value


def mask_phone_numbers(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: every phone number in the event's fields, masked."""
    return {key: _mask_value(key, value) for key, value in event_dict.items()}


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return TOKEN.sub("tfd_[redacted]", value)
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(v) for v in value)
    return value


def redact_tokens(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: API tokens are secrets, even at debug level."""
    return {key: _redact(value) for key, value in event_dict.items()}


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog (and the standard library's loggers, e.g. uvicorn's) once for the process.

    `fmt` auto picks console output on a terminal and JSON lines otherwise (systemd's journal
    reads stdout). Every line carries its event name and fields; a call's lines carry call_id.
    """
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    renderer = (
        structlog.dev.ConsoleRenderer(colors=stream.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_tokens,
    ]
    if level != "debug":
        # Debug logging is the one time a sysadmin asked to see numbers in full.
        shared.append(mask_phone_numbers)
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # Lines from libraries (uvicorn, asyncio, alembic) in the same format, to the same stream.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    ))
    handler._teamfoned = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    # Replace only our own handler from an earlier call (a reload); others' stay.
    root.handlers[:] = [h for h in root.handlers if not getattr(h, "_teamfoned", False)] + [handler]
    # Libraries speak only of problems: their info lines (a client's URLs) are chatter here.
    root.setLevel(max(_LEVELS[level], logging.WARNING))

"""The daemon's event loop: uvloop when it is installed, asyncio's own otherwise (said once, in the log)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop factory, or None (asyncio's default loop) when uvloop is not importable."""
    try:
        import uvloop
    except ImportError as exc:
        # A clean fallback: everything runs on asyncio's loop, only slower per event.
        log.warning("event_loop_fallback", loop="asyncio", reason=str(exc))
        return None
    log.info("event_loop", loop="uvloop")
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the fastest loop available."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)

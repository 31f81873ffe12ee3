"""The daemon's event loop: uvloop when installed, asyncio's own (and a log line) when not."""

import asyncio
import sys

import uvloop

from teamfoned import event_loop


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_runs_on_uvloop_when_installed():
    assert event_loop.loop_factory() is uvloop.new_event_loop
    assert event_loop.run(_loop_type()) is uvloop.Loop


def test_falls_back_to_asyncio_when_uvloop_cannot_be_imported(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # the import now raises ImportError
    assert event_loop.loop_factory() is None
    loop_type = event_loop.run(_loop_type())
    assert issubclass(loop_type, asyncio.BaseEventLoop) and loop_type is not uvloop.Loop

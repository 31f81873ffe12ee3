"""Waiting-line wake-ups: one node's signal wakes another node's waiting calls (PostgreSQL NOTIFY), SQLite's stay in process."""

import asyncio

from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.line_signals import LineSignals

# So long that only the signal itself can wake anyone within a test.
NO_BACKSTOP = 3600.0


async def test_a_signal_from_one_node_wakes_the_waiting_calls_of_every_node(db_url):
    engine = create_engine(db_url)
    sessions = create_sessionmaker(engine)
    sender = LineSignals(sessions, db_url, backstop_seconds=NO_BACKSTOP)
    receiver = LineSignals(sessions, db_url, backstop_seconds=NO_BACKSTOP)
    closing = asyncio.Event()
    woken = {"sender": asyncio.Event(), "receiver": asyncio.Event()}
    sender.subscribe(woken["sender"].set)
    receiver.subscribe(woken["receiver"].set)
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(sender.run(closing))
            tasks.create_task(receiver.run(closing))
            if engine.dialect.name == "postgresql":
                # Each wakes its own waiting calls once it LISTENs: then both are listening.
                for event in woken.values():
                    await asyncio.wait_for(event.wait(), 10)
            for event in woken.values():
                event.clear()
            sender.line_moved()
            await asyncio.wait_for(woken["sender"].wait(), 10)
            if engine.dialect.name == "postgresql":
                # Another node, another connection: the NOTIFY reached it.
                await asyncio.wait_for(woken["receiver"].wait(), 10)
            else:
                # One machine, one daemon on SQLite: the other instance hears nothing.
                await asyncio.sleep(0.3)
                assert not woken["receiver"].is_set()
            closing.set()
    finally:
        await engine.dispose()


async def test_a_wrap_up_end_wakes_later_and_an_unsubscribed_call_is_not_woken(db_url):
    engine = create_engine(db_url)
    signals = LineSignals(create_sessionmaker(engine), db_url, backstop_seconds=NO_BACKSTOP)
    woken: list[str] = []
    signals.subscribe(lambda: woken.append("a"))
    gone = lambda: woken.append("gone")  # noqa: E731 -- a waker is any callable
    signals.subscribe(gone)
    signals.unsubscribe(gone)
    try:
        signals.line_moved_after(0.2)
        assert woken == []
        await asyncio.sleep(0.5)
        assert woken == ["a"]
    finally:
        await engine.dispose()

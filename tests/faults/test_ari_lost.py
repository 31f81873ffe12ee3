"""ARI lost (connection cut) or Asterisk restarted: reconnect with backoff, talking calls go on, resync ends the rest."""

import asyncio
import time

import pytest

from teamfoned.app import Daemon
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

from .cut_proxy import CutProxy

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(150)]

OUTAGE_SECONDS = 6.0


async def until(predicate, timeout: float, what: str, interval: float = 0.05) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(interval)
    return time.monotonic() - started


async def test_ari_connection_cut_bridged_call_talks_on_and_resync_ends_it(in_process, pbx, carrier):
    bench = in_process
    proxy = CutProxy(pbx.topology.pbx_host, pbx.topology.ari_port)
    await proxy.start()
    try:
        await bench.setup(directory(available=("alice", "bob")))
        # The same daemon, reaching ARI through the relay that the test can cut.
        settings = bench.settings(ari={"url": proxy.url, "username": pbx.ari_user,
                                       "password": pbx.ari_password, "app": pbx.app})
        await _restart_with(bench, settings)
        daemon = bench.daemon

        await carrier.set_phone(PHONES["alice"], "answer")
        leg = await carrier.call(TEAM_NUMBER)
        await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
        await bench.wait_bridged()
        alice = carrier.phone(PHONES["alice"])[0]

        reconnects_before = daemon.ari.reconnects
        proxy.cut()
        cut_at = time.monotonic()
        await until(lambda: not daemon.ari.is_connected, 5, "the daemon to notice")
        noticed = time.monotonic() - cut_at
        assert daemon.ari.is_connected is False
        # What /readyz and the systemd status line report (the daemon's status object).
        assert daemon.state.ari_connected is False
        assert "ARI disconnected" in daemon.state.describe()
        await asyncio.sleep(OUTAGE_SECONDS / 2)
        assert leg.ended_at is None and not alice.ended  # the bridge holds without us
        # The caller hangs up while we cannot hear it: only the resync can tell us.
        await carrier.hangup_caller(leg)
        await asyncio.sleep(OUTAGE_SECONDS / 2)
        assert not alice.ended  # Asterisk leaves the member alone in our bridge
        refused = proxy.refused

        proxy.restore()
        restored_at = time.monotonic()
        await until(lambda: daemon.ari.reconnects > reconnects_before and daemon.ari.is_connected, 15,
                    "the daemon to reconnect")
        reconnect = time.monotonic() - restored_at
        await carrier.wait_for(lambda: alice.ended, 10, "the member left in the bridge to be hung up")
        [call] = await bench.wait_calls_finished(1, timeout=10)
        assert call.outcome == "answered" and call.attempts == [("alice", "answered")]
        assert call.talk_seconds >= OUTAGE_SECONDS / 2 - 0.5

        # New calls route again.
        await carrier.set_phone(PHONES["bob"], "answer")
        await bench.set_available("alice", False)
        leg2 = await carrier.call(TEAM_NUMBER)
        await carrier.wait_for(lambda: leg2.answered, 10, "a new call to be connected")
        await bench.wait_bridged()
        await carrier.hangup_caller(leg2)
        calls = await bench.wait_calls_finished(2, timeout=10)
        assert calls[1].answered_by == "bob"
        await bench.assert_clean()
        print(f"ARI cut: noticed in {noticed:.2f} s; {refused} connection attempts in "
              f"{OUTAGE_SECONDS:.0f} s of outage (backoff, no tight loop); reconnected {reconnect:.2f} s "
              f"after the restore; member leg hung up by the resync")
        assert refused <= OUTAGE_SECONDS / 0.5 + 1  # never faster than the 0.5 s floor
    finally:
        await bench.stop()
        await proxy.close()


async def _restart_with(bench, settings) -> None:
    if bench.daemon is not None:
        bench.daemon.stop()
        await asyncio.wait_for(bench._task, 30)
    bench.daemon = Daemon(settings, drain_seconds=3.0)
    bench._task = asyncio.create_task(bench.daemon.run())
    await asyncio.wait_for(bench.daemon.started.wait(), 15)


async def test_pbx_restart_reconnects_and_new_calls_route(in_process, pbx, carrier):
    bench = in_process
    await bench.setup(directory(available=("alice", "bob"), ring_time=20, max_wait=60))
    daemon = bench.daemon
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_rung(PHONES["alice"])

    before = daemon.ari.reconnects
    started = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.to_thread(pbx.instance.stop), 30)
        stopped = time.monotonic() - started
        assert not daemon.ari.is_connected
    finally:
        # Whatever happens, the session's PBX runs again for the tests after this one.
        if not pbx.instance.running:
            await asyncio.wait_for(asyncio.to_thread(pbx.instance.start), 60)
    booted = time.monotonic() - started
    await until(lambda: daemon.ari.reconnects > before and daemon.ari.is_connected, 20, "reconnect")
    reconnect = time.monotonic() - started
    # The call died with the PBX: its record is closed and nobody is left busy.
    [call] = await bench.wait_calls_finished(1, timeout=10)
    assert call.outcome == "abandoned"
    assert await bench.open_attempts() == []
    await carrier.wait_for(lambda: leg.ended_at is not None, 10, "the carrier to drop the dead call")

    await carrier.set_phone(PHONES["bob"], "answer")
    await bench.set_available("alice", False)
    leg2 = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg2.answered, 10, "a new call to be connected")
    await bench.wait_bridged()
    await carrier.hangup_caller(leg2)
    calls = await bench.wait_calls_finished(2, timeout=10)
    assert calls[1].outcome == "answered" and calls[1].answered_by == "bob"
    await bench.assert_clean()
    print(f"PBX restart: stopped in {stopped:.2f} s, booted again {booted:.2f} s after the stop began, "
          f"ARI reconnected and resynced {reconnect:.2f} s after it began "
          f"({reconnect - booted:.2f} s after boot)")

"""After a few real calls, the daemon's /metrics counts them right: outcomes, attempts, times, requests."""

import re

import httpx
import pytest

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


def sample(text: str, name: str, labels: str = "") -> float:
    """The value of one series in a Prometheus text exposition (0 when absent)."""
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.e+-]+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_metrics_after_real_calls(routing, carrier):
    await routing.setup(directory(strategy="linear", team_members=("alice", "bob"),
                                  available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "busy")
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.5)

    # Two answered calls: each tries Alice (busy) and then Bob, who answers.
    for n in (1, 2):
        leg = await carrier.call(TEAM_NUMBER)
        await carrier.wait_for(lambda leg=leg: leg.answered, 10, "the caller to be connected")
        await routing.wait_bridged()
        await carrier.hangup_caller(leg)
        await routing.wait_calls_finished(n)
    # One call nobody can take: it ends in the fallback.
    await routing.set_available("alice", False)
    await routing.set_available("bob", False)
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    records = await routing.wait_calls_finished(3)

    async with httpx.AsyncClient(base_url=routing.http_url, timeout=5) as http:
        await http.get("/v1/me")  # no token: a 401 to count
        text = (await http.get("/metrics")).text

    assert [r.outcome for r in records] == ["answered", "answered", "no_one_available"]
    assert sample(text, "teamfoned_calls_total", 'outcome="answered"') == 2
    assert sample(text, "teamfoned_calls_total", 'outcome="no_one_available"') == 1
    assert sample(text, "teamfoned_attempts_total", 'result="busy"') == 2
    assert sample(text, "teamfoned_attempts_total", 'result="answered"') == 2
    assert sample(text, "teamfoned_calls_in_progress") == 0
    assert sample(text, "teamfoned_call_wait_seconds_count") == 3
    assert sample(text, "teamfoned_attempt_ring_seconds_count") == 4
    # Bob answered after about half a second of ringing, both times.
    assert sample(text, "teamfoned_attempt_ring_seconds_bucket", 'le="0.5"') <= 2
    assert sample(text, "teamfoned_attempt_ring_seconds_bucket", 'le="5.0"') == 4
    assert sample(text, "teamfoned_ari_reconnects_total") == 0
    assert sample(text, "teamfoned_database_errors_total") == 0
    assert sample(text, "teamfoned_http_requests_total", 'method="GET",status="401"') == 1
    await routing.assert_clean()

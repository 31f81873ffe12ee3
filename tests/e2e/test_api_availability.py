"""A member flips availability over the daemon's own HTTP module, and the very next real call follows it."""

import httpx
import pytest

from teamfoned.api.context import system_clock as now
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tokens_repo import create_token

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def _token_for(routing, name: str) -> str:
    member = {v: k for k, v in (await routing.member_names()).items()}[name]
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        _, token = await create_token(session, routing.tenant_id, member, now=now(), label="e2e")
    return token


async def _answered_call(routing, carrier, expected: int):
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    return (await routing.wait_calls_finished(expected))[-1]


async def test_availability_set_over_http_decides_who_rings_next(routing, carrier):
    await routing.setup(directory(strategy="linear", team_members=("alice", "bob"), available=("bob",)))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "answer", delay=0.3)
    auth = {"Authorization": f"Bearer {await _token_for(routing, 'alice')}"}

    async with httpx.AsyncClient(base_url=routing.http_url, timeout=5) as http:
        assert (await http.get("/readyz")).json() == {"ready": True, "database": True, "ari": True}
        on = await http.put("/v1/me/availability", json={"available": True}, headers=auth)
        assert on.status_code == 200, on.text
        assert on.json()["availability"]["available"] is True

        # Alice is first in the linear order: the very next call rings her, and only her.
        first = await _answered_call(routing, carrier, 1)
        assert first.attempts == [("alice", "answered")]

        off = await http.put("/v1/me/availability", json={"available": False}, headers=auth)
        assert off.status_code == 200, off.text
        second = await _answered_call(routing, carrier, 2)
        assert second.attempts == [("bob", "answered")]

    assert len(carrier.phone(PHONES["alice"])) == 1
    await routing.assert_clean()

"""The routing directory on SQLite: a change made through the admin API is used by the very next real call."""

from datetime import UTC, datetime

import httpx
import pytest

from teamfoned.api.context import system_clock as now
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tokens_repo import create_token

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def _admin_token(routing) -> str:
    member = {v: k for k, v in (await routing.member_names()).items()}["carol"]
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        _, token = await create_token(session, routing.tenant_id, member, now=now(), label="e2e")
    return token


async def _who_answers(routing, carrier, expected: int) -> tuple[str, str | None]:
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    call = (await routing.wait_calls_finished(expected))[-1]
    return call.outcome, call.answered_by


async def test_a_holiday_set_over_the_api_closes_the_team_for_the_next_call(routing, carrier):
    doc = directory(team_members=("alice", "bob"), available=("alice", "bob"))
    next(m for m in doc["tenants"][0]["members"] if m["name"] == "carol")["admin"] = True
    await routing.setup(doc)
    for name in ("alice", "dave"):
        await carrier.set_phone(PHONES[name], "answer", delay=0.2)
    auth = {"Authorization": f"Bearer {await _admin_token(routing)}"}
    today = datetime.now(UTC).date().isoformat()  # the team's zone is UTC

    async with httpx.AsyncClient(base_url=routing.http_url, timeout=5) as http:
        team_id = (await http.get("/v1/admin/teams", headers=auth)).json()[0]["id"]
        # The daemon has the team in its directory (loaded at start): the first call uses it.
        assert await _who_answers(routing, carrier, 1) == ("answered", "alice")

        patched = await http.patch(f"/v1/admin/teams/{team_id}", headers=auth,
                                   json={"closed_kind": "number", "closed_target": PHONES["dave"]})
        assert patched.status_code == 200, patched.text
        holiday = await http.post(f"/v1/admin/teams/{team_id}/holidays", headers=auth,
                                  json={"date": today, "name": "closed today"})
        assert holiday.status_code == 201, holiday.text
        # Closed: the team's closed fallback (a setting) takes the very next call.
        assert (await _who_answers(routing, carrier, 2))[0] == "closed"
        assert len(carrier.phone(PHONES["dave"])) == 1

        reopened = await http.delete(f"/v1/admin/teams/{team_id}/holidays/{today}", headers=auth)
        assert reopened.status_code == 204, reopened.text
        assert await _who_answers(routing, carrier, 3) == ("answered", "alice")

    assert len(carrier.phone(PHONES["alice"])) == 2
    await routing.assert_clean()

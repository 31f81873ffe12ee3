"""Finding 6: a member's SIP phone is an endpoint the sysadmin gave their tenant; the trunk and other tenants' phones are never dialled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tables import availability, members, memberships, teams
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

# The trunk endpoint (telephony.trunk_dial_template), another tenant's desk phone, and one
# that exists nowhere in the directory.
NOT_ACMES = ["sip:trunk", "trunk", "sip:TRUNK", "sip:desk-g7", "desk-g7", "sip:desk-999"]


async def test_a_tenant_admin_cannot_give_a_member_someone_elses_endpoint(api: LiveApi) -> None:
    ann, bob = api.world.auth("ann"), api.world.auth("bob")
    erin = api.world.id("erin")
    before = await api.snapshot()
    for phone in NOT_ACMES:
        for method, path, body, who in [
            ("patch", f"/v1/admin/members/{erin}", {"phone": phone}, ann),
            ("post", "/v1/admin/members", {"name": "Mallory", "phone": phone}, ann),
            ("patch", "/v1/me", {"phone": phone}, bob),
        ]:
            answer = await api.client.request(method, path, json=body, headers=who)
            assert answer.status_code == 422, (phone, method, path, answer.status_code, answer.text)
            assert error_of(answer)["fields"][0]["field"] == "phone"
            assert "globex" not in answer.text  # whose endpoint it is stays unsaid
    assert await api.snapshot() == before
    # An endpoint the sysadmin assigned to acme is fine.
    done = await api.client.patch(f"/v1/admin/members/{erin}", json={"phone": "sip:bob-desk"},
                                  headers=ann)
    assert done.status_code == 200, done.text
    assert (done.json()["phone_kind"], done.json()["phone"]) == ("sip", "bob-desk")


@pytest.mark.e2e
@pytest.mark.parametrize("assigned_by_hand", [False, True])
async def test_a_stored_trunk_endpoint_is_never_dialled(routing_each_db, carrier,
                                                        assigned_by_hand: bool) -> None:
    bench = routing_each_db
    await bench.setup(directory(available=("alice",), team_members=("alice",)))
    # Rows as an older version, or a hand edit, could have left them: Mallory's phone is the
    # trunk, first in the team.
    async with create_sessionmaker(bench.engine)() as session, session.begin():
        team = await session.scalar(select(teams.c.id).where(teams.c.name == "support"))
        mallory, now = uuid.uuid4(), datetime.now(UTC)
        await session.execute(insert(members).values(
            id=mallory, tenant_id=bench.tenant_id, name="mallory", phone="trunk", phone_kind="sip",
            is_admin=False, created_at=now))
        await session.execute(insert(availability).values(member_id=mallory, available=True,
                                                          changed_at=now))
        await session.execute(insert(memberships).values(
            id=uuid.uuid4(), tenant_id=bench.tenant_id, team_id=team, member_id=mallory,
            priority=0))
        if assigned_by_hand:
            from teamfoned.store.tables import sip_endpoints
            await session.execute(insert(sip_endpoints).values(name="trunk",
                                                               tenant_id=bench.tenant_id))
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_rung(PHONES["alice"], timeout=10)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await bench.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await bench.wait_calls_finished(1)
    # The carrier never saw a call to the trunk endpoint itself.
    assert carrier.phone("s") == []
    assert call.attempts == [("mallory", "failed"), ("alice", "answered")]
    await bench.assert_clean()

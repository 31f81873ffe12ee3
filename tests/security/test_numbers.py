"""Finding 1: a team number is one number in every spelling; no tenant takes another's, and calls reach its owner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import insert, select

from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import current_revision, upgrade
from teamfoned.store.tables import members, team_numbers, teams, tenants
from teamfoned.store.tokens_repo import create_token
from tests.e2e.routing_bench import PHONES
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

OWNED = "31207654321"  # as tenant B's admin wrote it: no "+"


async def test_another_spelling_of_a_taken_number_is_refused(api: LiveApi) -> None:
    ops, desk = api.world.teams["ops"], api.world.teams["desk"]
    gina, ann = api.world.auth("gina"), api.world.auth("ann")
    taken = await api.client.put(f"/v1/admin/teams/{ops}/numbers/{OWNED}", headers=gina)
    assert taken.status_code == 204, taken.text
    before = await api.snapshot()
    for spelling in ("+31207654321", "0031207654321"):
        answer = await api.client.put(f"/v1/admin/teams/{desk}/numbers/{spelling}", headers=ann)
        assert answer.status_code == 409, (spelling, answer.status_code, answer.text)
        assert error_of(answer)["code"] == "conflict"
        assert "acme" not in answer.text and "globex" not in answer.text  # the holder is not named
    assert await api.snapshot() == before
    # Stored, and answered, in its one canonical form; the owner's own spellings change nothing.
    got = await api.client.get(f"/v1/admin/teams/{ops}", headers=gina)
    assert "+31207654321" in got.json()["numbers"] and OWNED not in got.json()["numbers"]
    again = await api.client.put(f"/v1/admin/teams/{ops}/numbers/0031207654321", headers=gina)
    assert again.status_code == 204 and await api.snapshot() == before
    # Taken away in any spelling.
    gone = await api.client.delete(f"/v1/admin/teams/{ops}/numbers/0031207654321", headers=gina)
    assert gone.status_code == 204, gone.text
    got = await api.client.get(f"/v1/admin/teams/{ops}", headers=gina)
    assert "+31207654321" not in got.json()["numbers"]


async def test_a_national_number_needs_the_default_region(api: LiveApi) -> None:
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    answer = await api.client.put(f"/v1/admin/teams/{desk}/numbers/0207654321",
                                  headers=api.world.auth("ann"))
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["fields"][0]["field"] == "number"
    assert await api.snapshot() == before


# -- the migration -----------------------------------------------------------------------------

# The teams table as revision 0003 has it: the current model would also write the columns of
# later migrations.
TEAMS_AT_0003 = sa.table("teams", *(sa.column(name, teams.c[name].type) for name in (
    "id", "tenant_id", "name", "label", "strategy", "ring_time_s", "max_wait_s", "wrap_up_s",
    "confirm_calls", "fallback_kind", "created_at")))
TENANTS_AT_0003 = sa.table("tenants", *(sa.column(name, tenants.c[name].type) for name in (
    "id", "name", "retention_days", "created_at")))


async def _at_0003_with_numbers(url: str, rows: list[tuple[str, str]]) -> None:
    """A database at revision 0003 holding `rows` of (tenant, number) as older versions wrote them."""
    engine = create_engine(url)
    try:
        await upgrade(engine, "0003")
        now = datetime.now(UTC)
        async with create_sessionmaker(engine)() as session, session.begin():
            ids: dict[str, uuid.UUID] = {}
            for tenant, number in rows:
                if tenant not in ids:
                    ids[tenant] = uuid.uuid4()
                    await session.execute(insert(TENANTS_AT_0003).values(
                        id=ids[tenant], name=tenant, retention_days=90, created_at=now))
                    await session.execute(insert(TEAMS_AT_0003).values(
                        id=ids[tenant], tenant_id=ids[tenant], name="t", label="T",
                        strategy="ring_all", ring_time_s=20, max_wait_s=60, wrap_up_s=0,
                        confirm_calls=False, fallback_kind="announce", created_at=now))
                await session.execute(insert(team_numbers).values(
                    number=number, tenant_id=ids[tenant], team_id=ids[tenant]))
    finally:
        await engine.dispose()


async def _numbers(url: str) -> tuple[str | None, list[tuple[str, str]]]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (await session.execute(
                select(tenants.c.name, team_numbers.c.number)
                .join(tenants, tenants.c.id == team_numbers.c.tenant_id)
                .order_by(team_numbers.c.number))).all()
        return await current_revision(engine), sorted((r[0], r[1]) for r in rows)
    finally:
        await engine.dispose()


async def _upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def test_the_migration_makes_every_number_canonical(db_url: str) -> None:
    await _at_0003_with_numbers(db_url, [("a", "31207654321"), ("a", "0031207654322"),
                                         ("b", "+31207654323")])
    await _upgrade(db_url)
    revision, rows = await _numbers(db_url)
    assert revision != "0003"
    assert rows == [("a", "+31207654321"), ("a", "+31207654322"), ("b", "+31207654323")]


@pytest.mark.parametrize("rows", [
    [("a", "31207654321"), ("b", "+31207654321")],  # the takeover, already in the database
    [("a", "31207654321"), ("a", "0031207654321")],  # one number twice in one tenant
])
async def test_the_migration_stops_on_colliding_numbers_and_changes_nothing(
        db_url: str, rows: list[tuple[str, str]]) -> None:
    await _at_0003_with_numbers(db_url, rows)
    with pytest.raises(Exception, match=r"\+31207654321 is stored 2 times") as refused:
        await _upgrade(db_url)
    assert "nothing was changed" in str(refused.value)
    revision, after = await _numbers(db_url)
    assert (revision, after) == ("0003", sorted(rows))


# -- real calls --------------------------------------------------------------------------------

def _two_tenants() -> dict:
    """acme (alice) and globex (bob), globex owning OWNED as its admin wrote it."""
    def tenant(name: str, member: str, number: str) -> dict:
        return {"name": name,
                "members": [{"name": member, "phone": PHONES[member], "available": True,
                             "admin": True}],
                "teams": [{"name": f"{name}-desk", "strategy": "ring_all", "ring_time": 10,
                           "confirm_calls": False, "numbers": [number],
                           "members": [{"name": member, "priority": 1}]}]}
    return {"tenants": [tenant("acme", "alice", "+31207650000"), tenant("globex", "bob", OWNED)]}


@pytest.mark.e2e
@pytest.mark.parametrize("dialled", ["31207654321", "+31207654321"])
async def test_calls_to_a_number_reach_its_owner_after_a_takeover_attempt(
        routing_each_db, carrier, dialled: str) -> None:
    bench = routing_each_db
    await bench.setup(_two_tenants())
    async with create_sessionmaker(bench.engine)() as session, session.begin():
        alice = await session.scalar(select(teams.c.id).where(teams.c.name == "acme-desk"))
        tenant, member = (await session.execute(select(members.c.tenant_id, members.c.id).where(
            members.c.name == "alice"))).one()
        _, token = await create_token(session, tenant, member, now=datetime.now(UTC))
    async with httpx.AsyncClient(base_url=bench.http_url, timeout=10) as client:
        for spelling in ("+31207654321", "0031207654321"):
            answer = await client.put(f"/v1/admin/teams/{alice}/numbers/{spelling}",
                                      headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 409, (spelling, answer.status_code, answer.text)

    await carrier.set_phone(PHONES["bob"], "answer")
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(dialled)
    await carrier.wait_rung(PHONES["bob"], timeout=10)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await bench.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await bench.wait_calls_finished(1)
    assert call.answered_by == "bob" and call.attempts == [("bob", "answered")]
    assert carrier.phone(PHONES["alice"]) == []
    await bench.assert_clean()

"""Tenant administration, export and erasure over real HTTP, on both databases."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jsonschema
from sqlalchemy import LargeBinary, String, Text, select

from teamfoned.api.export import export_schema
from teamfoned.store.tables import Base
from tests.integration.test_api_bench import PHOTO, LiveApi, api_fixture, error_of  # noqa: F401


async def test_admin_manages_teams_numbers_members_memberships(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    created = await c.post("/v1/admin/teams", headers=ann,
                           json={"name": "night", "strategy": "linear", "ring_time": 15})
    assert created.status_code == 201, created.text
    team = created.json()
    assert (team["strategy"], team["ring_time"], team["label"]) == ("linear", 15, "night")
    tid = team["id"]
    assert (await c.put(f"/v1/admin/teams/{tid}/numbers/+31201230000", headers=ann)).status_code == 204
    assert (await c.put(f"/v1/admin/teams/{tid}/numbers/+31201230000", headers=ann)).status_code == 204
    taken = await c.put(f"/v1/admin/teams/{tid}/numbers/+31201234569", headers=ann)  # globex's
    assert taken.status_code == 409 and error_of(taken)["code"] == "conflict"
    member = await c.post("/v1/admin/members", headers=ann,
                          json={"name": "Nina Night", "phone": "+31 6 11112222"})
    assert member.status_code == 201, member.text
    mid = member.json()["id"]
    assert (await c.put(f"/v1/admin/teams/{tid}/members/{mid}", headers=ann,
                        json={"priority": 2})).status_code == 204
    patched = await c.patch(f"/v1/admin/teams/{tid}", headers=ann,
                            json={"wrap_up": 30, "fallback_kind": "number",
                                  "fallback_target": "+31201239999"})
    assert patched.status_code == 200, patched.text
    got = (await c.get(f"/v1/admin/teams/{tid}", headers=ann)).json()
    assert got["numbers"] == ["+31201230000"] and got["wrap_up"] == 30
    assert got["members"] == [{"member_id": mid, "priority": 2, "tier": 1}]
    assert "night" in [t["name"] for t in (await c.get("/v1/admin/teams", headers=ann)).json()]
    changed = await c.patch(f"/v1/admin/members/{mid}", headers=ann,
                            json={"is_admin": True, "name": "Nina N."})
    assert (changed.json()["is_admin"], changed.json()["name"]) == (True, "Nina N.")
    names = [m["name"] for m in (await c.get("/v1/admin/members", headers=ann)).json()]
    assert "Nina N." in names and "Gina Globex" not in names
    assert (await c.delete(f"/v1/admin/teams/{tid}/members/{mid}", headers=ann)).status_code == 204
    assert (await c.delete(f"/v1/admin/teams/{tid}/numbers/+31201230000",
                           headers=ann)).status_code == 204
    assert (await c.delete(f"/v1/admin/teams/{tid}", headers=ann)).status_code == 204
    assert (await c.get(f"/v1/admin/teams/{tid}", headers=ann)).status_code == 404


async def test_admin_refusals_write_nothing(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    refused = [
        ("post", "/v1/admin/teams", {"name": "desk"}, 409),
        ("post", "/v1/admin/teams", {"name": "bad name!"}, 422),
        ("post", "/v1/admin/teams", {"name": "x", "strategy": "loudest"}, 422),
        ("post", "/v1/admin/teams", {"name": "x", "ring_time": 1}, 422),
        ("post", "/v1/admin/teams", {"name": "x", "fallback_kind": "number"}, 422),
        ("patch", f"/v1/admin/teams/{desk}", {"fallback_kind": "team",
                                                 "fallback_target": "no such!"}, 422),
        ("put", f"/v1/admin/teams/{desk}/numbers/12ab", None, 422),
        ("post", "/v1/admin/members", {"name": "Eve", "phone": "+319001234567"}, 422),
        ("post", "/v1/admin/members", {"name": "Eve"}, 422),
        ("put", f"/v1/admin/teams/{desk}/members/{api.world.id('carol')}", {"priority": -1}, 422),
        ("post", f"/v1/admin/members/{api.world.id('bob')}/tokens",
         {"expires_at": "2001-01-01T00:00:00Z"}, 422),
    ]
    for method, path, body, status in refused:
        done = await c.request(method, path, headers=ann, json=body)
        assert done.status_code == status, (path, body, done.text)
        error_of(done)
    assert await api.snapshot() == before


async def test_members_cannot_administer(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    for method, path in [("get", "/v1/admin/teams"), ("get", "/v1/admin/members"),
                         ("post", "/v1/admin/members"), ("get", "/v1/admin/tokens"),
                         ("get", "/v1/export"),
                         ("delete", f"/v1/admin/members/{api.world.id('carol')}")]:
        done = await api.client.request(method, path, headers=bob, json={})
        assert done.status_code == 403, (path, done.text)
        assert error_of(done)["code"] == "forbidden"


async def test_tokens_created_listed_revoked_and_expiring(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    erin = api.world.id("erin")
    expires = (api.clock.now + timedelta(hours=1)).isoformat()
    made = await c.post(f"/v1/admin/members/{erin}/tokens", headers=ann,
                        json={"label": "phone app", "expires_at": expires})
    assert made.status_code == 201, made.text
    token, token_id = made.json()["token"], made.json()["id"]
    assert token.startswith("tfd_") and len(token) >= 4 + 43
    erin_auth = {"Authorization": f"Bearer {token}"}
    assert (await c.get("/v1/me", headers=erin_auth)).json()["name"] == "Erin Idle"
    listed = (await c.get("/v1/admin/tokens", headers=ann)).json()
    mine = next(t for t in listed if t["id"] == token_id)
    assert mine["member_name"] == "Erin Idle" and mine["last_used_at"] is not None
    assert token not in json.dumps(listed)
    assert {t["member_name"] for t in listed} == {"Ann Admin", "Bob Bakker", "Carol Care",
                                                  "Erin Idle"}  # never another tenant's
    api.clock.now += timedelta(hours=1)
    assert (await c.get("/v1/me", headers=erin_auth)).status_code == 401  # expired
    api.clock.now -= timedelta(hours=1)
    assert (await c.delete(f"/v1/admin/tokens/{token_id}", headers=ann)).status_code == 204
    assert (await c.get("/v1/me", headers=erin_auth)).status_code == 401  # revoked
    assert (await c.delete(f"/v1/admin/tokens/{token_id}", headers=ann)).status_code == 404


async def test_export_validates_against_its_schema_and_holds_everyone(api: LiveApi) -> None:
    done = await api.client.get("/v1/export", headers=api.world.auth("ann"))
    assert done.status_code == 200, done.text
    document = done.json()
    jsonschema.validate(document, export_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    acme = {p.name for k, p in api.world.people.items() if k not in ("gina", "hank")}
    assert {m["name"] for m in document["members"]} == acme
    bob = next(m for m in document["members"] if m["name"] == "Bob Bakker")
    assert base64.b64decode(bob["photo"]["data_base64"]) == PHOTO
    assert bob["availability"]["available"] is True and bob["tokens"]
    assert len(document["calls"]) == 8 and {t["name"] for t in document["teams"]} == {"desk",
                                                                                       "care"}
    assert "Globex" not in json.dumps(document)
    for person in api.world.people.values():
        if person.token:
            assert person.token not in json.dumps(document)


async def test_erasure_leaves_no_name_number_or_photo(api: LiveApi) -> None:
    bob = api.world.people["bob"]
    done = await api.client.delete(f"/v1/admin/members/{bob.id}", headers=api.world.auth("ann"))
    assert done.status_code == 204, done.text
    needles = [bob.name.encode(), bob.phone.encode(), bob.phone.lstrip("+").encode(), PHOTO,
               bob.id.hex.encode(), str(bob.id).encode()]
    async with api.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, (String, Text, LargeBinary))
                       or c.type.python_type is bytes]
            for row in (await session.execute(select(*table.c))).all():
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    for needle in needles:
                        assert needle not in raw, (table.name, columns, value)
    # History stays for the statistics, without him.
    stats = (await api.client.get(f"/v1/teams/{api.world.teams['desk']}/stats",
                                  headers=api.world.auth("ann"))).json()
    assert stats["received"] == 5
    calls = (await api.client.get(f"/v1/teams/{api.world.teams['desk']}/calls",
                                  headers=api.world.auth("ann"))).json()["calls"]
    ringing = next(c for c in calls if c["id"] == str(api.world.calls["bob_ringing"]))
    assert ringing["attempts"][0]["member_id"] is None
    assert ringing["attempts"][0]["member_name"] is None
    assert (await api.client.get("/v1/me", headers=api.world.auth("bob"))).status_code == 401

"""Own availability schedule and availability reasons over real HTTP; refusals write nothing."""

from __future__ import annotations

import jsonschema
from sqlalchemy import select, update

from teamfoned.api.export import export_schema
from teamfoned.store.tables import availability, availability_schedules
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

WEEK = [{"weekday": 4, "starts": "13:00", "ends": "17:00"},
        {"weekday": 0, "starts": "08:00", "ends": "12:00"},
        {"weekday": 0, "starts": "13:00", "ends": "24:00"}]


async def test_schedule_set_read_replaced_and_cleared(api: LiveApi) -> None:
    bob, c = api.world.auth("bob"), api.client
    assert (await c.get("/v1/me/schedule", headers=bob)).json() == {"timezone": None,
                                                                    "periods": []}
    done = await c.put("/v1/me/schedule", headers=bob,
                       json={"timezone": "Europe/Amsterdam", "periods": WEEK})
    assert done.status_code == 200, done.text
    expected = {"timezone": "Europe/Amsterdam", "periods": [WEEK[1], WEEK[2], WEEK[0]]}
    assert done.json() == expected
    assert (await c.get("/v1/me/schedule", headers=bob)).json() == expected
    # Only the caller's own: carol has none.
    assert (await c.get("/v1/me/schedule", headers=api.world.auth("carol"))).json()["periods"] == []

    document = (await c.get("/v1/export", headers=api.world.auth("ann"))).json()
    jsonschema.validate(document, export_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    exported = next(m for m in document["members"] if m["name"] == "Bob Bakker")
    assert exported["schedule"] == expected

    replaced = await c.put("/v1/me/schedule", headers=bob,
                           json={"timezone": "UTC", "periods": WEEK[:1]})
    assert replaced.json() == {"timezone": "UTC", "periods": WEEK[:1]}
    cleared = await c.put("/v1/me/schedule", headers=bob, json={"periods": []})
    assert cleared.status_code == 200 and cleared.json() == {"timezone": None, "periods": []}
    async with api.sessions() as session:
        assert (await session.execute(select(availability_schedules))).all() == []


async def test_refused_schedules_write_nothing(api: LiveApi) -> None:
    bob, c = api.world.auth("bob"), api.client
    await c.put("/v1/me/schedule", headers=bob, json={"timezone": "UTC", "periods": WEEK})
    before = await api.snapshot()
    monday = {"weekday": 0, "starts": "08:00", "ends": "17:00"}
    for body, field in [
        ({"timezone": "Mars/Olympus_Mons", "periods": [monday]}, "timezone"),
        ({"timezone": "localtime", "periods": [monday]}, "timezone"),
        ({"timezone": "../../etc/passwd", "periods": []}, "timezone"),
        ({"periods": [monday]}, "timezone"),  # wall-clock times need a zone
        ({"timezone": "UTC", "periods": [{**monday, "ends": "07:00"}]}, "periods.0"),
        ({"timezone": "UTC", "periods": [{**monday, "weekday": 7}]}, "periods.0.weekday"),
        ({"timezone": "UTC", "periods": [{**monday, "starts": "25:00"}]}, "periods.0"),
        ({"timezone": "UTC", "periods": [{**monday, "starts": "8:00"}]}, "periods.0.starts"),
        ({"timezone": "UTC", "periods": [monday, {**monday, "starts": "16:00",
                                                  "ends": "18:00"}]}, "periods"),
        ({"timezone": "UTC", "periods": [monday] * 101}, "periods"),
        ({"timezone": "UTC", "periods": [{**monday, "extra": 1}]}, "periods.0.extra"),
        ({"timezone": "UTC"}, "periods"),
    ]:
        done = await c.put("/v1/me/schedule", headers=bob, json=body)
        assert done.status_code == 422, (body, done.text)
        error = error_of(done)
        assert error["code"] == "invalid" and error["fields"][0]["field"] == field, (body, error)
    assert await api.snapshot() == before


async def test_availability_reason_seen_by_member_and_team(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    bob = api.world.auth("bob")
    desk = api.world.teams["desk"]
    done = await c.put("/v1/me/availability", headers=bob, json={"available": True})
    assert done.json()["availability"]["reason"] == "manual"
    # Routing made bob unavailable after unanswered calls in a row.
    async with api.sessions() as session, session.begin():
        await session.execute(update(availability).where(
            availability.c.member_id == api.world.id("bob")).values(
            available=False, reason="auto", changed_at=api.clock.now))
    me = (await c.get("/v1/me", headers=bob)).json()["availability"]
    assert (me["available"], me["reason"]) == (False, "auto")
    team = (await c.get(f"/v1/teams/{desk}", headers=ann)).json()
    mate = next(m for m in team["members"] if m["id"] == str(api.world.id("bob")))
    assert (mate["available"], mate["reason"], mate["line_state"]) == (False, "auto", "ringing")
    # The member turns it back on with the same call.
    back = await c.put("/v1/me/availability", headers=bob, json={"available": True})
    assert back.status_code == 200
    assert (back.json()["availability"]["available"], back.json()["availability"]["reason"]) == (
        True, "manual")
    team = (await c.get(f"/v1/teams/{desk}", headers=ann)).json()
    mate = next(m for m in team["members"] if m["id"] == str(api.world.id("bob")))
    assert mate["reason"] == "manual"


async def test_schedule_paths_need_a_token(api: LiveApi) -> None:
    for method in ("get", "put"):
        done = await api.client.request(method, "/v1/me/schedule", json={"periods": []})
        assert done.status_code == 401 and error_of(done)["code"] == "unauthenticated"
    served = (await api.client.get("/openapi.json")).json()
    assert {"get", "put"} <= set(served["paths"]["/v1/me/schedule"])
    assert "reason" in served["components"]["schemas"]["AvailabilityOut"]["properties"]
    assert "reason" in served["components"]["schemas"]["TeammateOut"]["properties"]

"""Team settings, opening hours and holidays over real HTTP: admins change them, members see them."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

HOURS = [{"weekday": 0, "starts": "08:00", "ends": "12:00"},
         {"weekday": 0, "starts": "13:00", "ends": "17:00"},
         {"weekday": 5, "starts": "10:00", "ends": "24:00"}]


async def test_admin_sets_the_new_team_settings_and_clears_them(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={
        "timezone": "Europe/Amsterdam", "closed_kind": "number", "closed_target": "+31201239999",
        "auto_unavailable_after": 3, "confirm_recording": "desk-prompt",
        "confirm_calls": True})
    assert done.status_code == 200, done.text
    team = (await c.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert {k: team[k] for k in ("timezone", "closed_kind", "closed_target",
                                 "auto_unavailable_after", "confirm_recording",
                                 "confirm_calls")} == {
        "timezone": "Europe/Amsterdam", "closed_kind": "number",
        "closed_target": "+31201239999", "auto_unavailable_after": 3,
        "confirm_recording": "desk-prompt", "confirm_calls": True}
    # An explicit null switches an optional setting off; an absent key leaves it alone.
    done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={
        "auto_unavailable_after": None, "closed_kind": None, "closed_target": None,
        "confirm_recording": None})
    assert done.status_code == 200, done.text
    team = done.json()
    assert (team["auto_unavailable_after"], team["closed_kind"], team["closed_target"],
            team["confirm_recording"], team["timezone"]) == (None, None, None, None,
                                                             "Europe/Amsterdam")
    made = await c.post("/v1/admin/teams", headers=ann,
                        json={"name": "night", "timezone": "America/New_York",
                              "auto_unavailable_after": 2})
    assert made.status_code == 201, made.text
    assert (made.json()["timezone"], made.json()["auto_unavailable_after"]) == (
        "America/New_York", 2)


async def test_refused_settings_write_nothing(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    for body, field in [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "posixrules"}, "timezone"),
        ({"closed_kind": "number", "closed_target": "not a number"}, "closed"),
        ({"closed_target": "+31201239999"}, "closed"),  # a target needs a kind
        ({"closed_kind": "voicemail"}, "closed_kind"),
        ({"auto_unavailable_after": 0}, "auto_unavailable_after"),
        ({"auto_unavailable_after": 101}, "auto_unavailable_after"),
        ({"confirm_recording": "../etc/x y"}, "confirm_recording"),
        ({"confirm_calls": "yes"}, "confirm_calls"),
    ]:
        done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == field, (body, done.text)
    assert await api.snapshot() == before


async def test_hours_replaced_and_shown_to_members(api: LiveApi) -> None:
    ann, bob, c = api.world.auth("ann"), api.world.auth("bob"), api.client
    desk = api.world.teams["desk"]
    assert (await c.get(f"/v1/admin/teams/{desk}/hours", headers=ann)).json() == {
        "timezone": "UTC", "periods": []}
    view = (await c.get(f"/v1/teams/{desk}", headers=bob)).json()
    assert (view["hours"], view["holidays"], view["open_now"]) == ([], [], True)

    await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={"timezone": "Europe/Amsterdam"})
    done = await c.put(f"/v1/admin/teams/{desk}/hours", headers=ann,
                       json={"periods": list(reversed(HOURS))})
    assert done.status_code == 200, done.text
    assert done.json() == {"timezone": "Europe/Amsterdam", "periods": HOURS}
    view = (await c.get(f"/v1/teams/{desk}", headers=bob)).json()
    assert (view["timezone"], view["hours"]) == ("Europe/Amsterdam", HOURS)
    local = api.clock.now.astimezone(ZoneInfo("Europe/Amsterdam"))
    minute = local.hour * 60 + local.minute
    expected = any(p["weekday"] == local.weekday()
                   and int(p["starts"][:2]) * 60 + int(p["starts"][3:]) <= minute
                   < int(p["ends"][:2]) * 60 + int(p["ends"][3:]) for p in HOURS)
    assert view["open_now"] is expected

    before = await api.snapshot()
    for body, field in [
        ({"periods": [HOURS[0], {**HOURS[0], "starts": "11:00", "ends": "14:00"}]}, "periods"),
        ({"periods": [{"weekday": 0, "starts": "17:00", "ends": "08:00"}]}, "periods.0"),
        ({"periods": [{"weekday": -1, "starts": "08:00", "ends": "09:00"}]},
         "periods.0.weekday"),
        ({"periods": "mon-fri 08:00-17:00"}, "periods"),
        ({}, "periods"),
    ]:
        done = await c.put(f"/v1/admin/teams/{desk}/hours", headers=ann, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == field, (body, done.text)
    assert await api.snapshot() == before

    cleared = await c.put(f"/v1/admin/teams/{desk}/hours", headers=ann, json={"periods": []})
    assert cleared.json()["periods"] == []
    assert (await c.get(f"/v1/teams/{desk}", headers=bob)).json()["open_now"] is True


async def test_holidays_added_renamed_listed_and_removed(api: LiveApi) -> None:
    ann, bob, c = api.world.auth("ann"), api.world.auth("bob"), api.client
    desk = api.world.teams["desk"]
    today = api.clock.now.date()
    past, soon = (today - timedelta(days=30)).isoformat(), (today + timedelta(days=30)).isoformat()
    made = await c.post(f"/v1/admin/teams/{desk}/holidays", headers=ann,
                        json={"date": soon, "name": "Team outing"})
    assert made.status_code == 201 and made.json() == {"date": soon, "name": "Team outing"}
    again = await c.post(f"/v1/admin/teams/{desk}/holidays", headers=ann,
                         json={"date": soon, "name": "Outing"})
    assert again.status_code == 200 and again.json() == {"date": soon, "name": "Outing"}
    assert (await c.post(f"/v1/admin/teams/{desk}/holidays", headers=ann,
                         json={"date": past})).status_code == 201
    listed = (await c.get(f"/v1/admin/teams/{desk}/holidays", headers=ann)).json()
    assert listed == [{"date": past, "name": None}, {"date": soon, "name": "Outing"}]
    # Members see the ones still to come.
    view = (await c.get(f"/v1/teams/{desk}", headers=bob)).json()
    assert view["holidays"] == [{"date": soon, "name": "Outing"}]
    closed = await c.post(f"/v1/admin/teams/{desk}/holidays", headers=ann,
                          json={"date": today.isoformat()})
    assert closed.status_code == 201
    assert (await c.get(f"/v1/teams/{desk}", headers=bob)).json()["open_now"] is False

    before = await api.snapshot()
    for body, field in [({"date": "2030-02-30"}, "date"), ({"date": "tomorrow"}, "date"),
                        ({"date": soon, "name": ""}, "name"), ({"date": soon, "name": "x" * 101},
                                                                "name"),
                        ({"date": soon, "name": "a\x00b"}, "name"), ({"name": "x"}, "date")]:
        done = await c.post(f"/v1/admin/teams/{desk}/holidays", headers=ann, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == field, (body, done.text)
    bad_day = await c.delete(f"/v1/admin/teams/{desk}/holidays/2030-13-01", headers=ann)
    assert bad_day.status_code == 422
    assert await api.snapshot() == before

    assert (await c.delete(f"/v1/admin/teams/{desk}/holidays/{soon}",
                           headers=ann)).status_code == 204
    gone = await c.delete(f"/v1/admin/teams/{desk}/holidays/{soon}", headers=ann)
    assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"


async def test_members_and_other_tenants_cannot_change_hours(api: LiveApi) -> None:
    c, world = api.client, api.world
    desk, ops = world.teams["desk"], world.teams["ops"]
    before = await api.snapshot()
    for method, path, body in [
        ("patch", f"/v1/admin/teams/{desk}", {"timezone": "UTC"}),
        ("get", f"/v1/admin/teams/{desk}/hours", None),
        ("put", f"/v1/admin/teams/{desk}/hours", {"periods": []}),
        ("get", f"/v1/admin/teams/{desk}/holidays", None),
        ("post", f"/v1/admin/teams/{desk}/holidays", {"date": "2030-12-25"}),
        ("delete", f"/v1/admin/teams/{desk}/holidays/2030-12-25", None),
    ]:
        done = await c.request(method, path, headers=world.auth("bob"), json=body)
        assert done.status_code == 403 and error_of(done)["code"] == "forbidden", path
        foreign = await c.request(method, path.replace(str(desk), str(ops)),
                                  headers=world.auth("ann"), json=body)
        assert foreign.status_code == 404 and error_of(foreign)["code"] == "not_found", path
        # ...and globex's admin cannot reach acme's team either.
        done = await c.request(method, path, headers=world.auth("gina"), json=body)
        assert done.status_code == 404, path
    assert await api.snapshot() == before
    served = (await c.get("/openapi.json")).json()
    assert {"get", "put"} <= set(served["paths"]["/v1/admin/teams/{team_id}/hours"])
    assert {"get", "post"} <= set(served["paths"]["/v1/admin/teams/{team_id}/holidays"])
    assert "delete" in served["paths"]["/v1/admin/teams/{team_id}/holidays/{day}"]
    for key in ("timezone", "closed_kind", "closed_target", "auto_unavailable_after",
                "confirm_recording"):
        assert key in served["components"]["schemas"]["TeamAdminOut"]["properties"]
        assert key in served["components"]["schemas"]["TeamSettingsPatch"]["properties"]
    assert {"timezone", "hours", "holidays", "open_now"} <= set(
        served["components"]["schemas"]["TeamOut"]["properties"])

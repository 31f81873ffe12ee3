"""The admin team pages over real HTTP: members and priorities, strategy and timings; the API's rules, the API's tenancy."""

from __future__ import annotations

from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    LiveApi,
    api_fixture,
)
from tests.integration.test_web_sign_in import sign_in


async def _team(api: LiveApi, name: str = "desk") -> dict:  # type: ignore[type-arg]
    found = await api.client.get(f"/v1/admin/teams/{api.world.teams[name]}",
                                 headers=api.world.auth("ann"))
    assert found.status_code == 200, found.text
    return found.json()  # type: ignore[no-any-return]


def _priorities(team: dict) -> dict[str, int]:  # type: ignore[type-arg]
    return {m["member_id"]: m["priority"] for m in team["members"]}


async def test_teams_list_and_team_page(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    listed = await ann.get("/app/admin/teams")
    assert listed.status_code == 200
    desk, care, ops = (api.world.teams[t] for t in ("desk", "care", "ops"))
    assert f"/app/admin/teams/{desk}" in listed.text and f"/app/admin/teams/{care}" in listed.text
    assert str(ops) not in listed.text  # another tenant's team
    page = await ann.get(f"/app/admin/teams/{desk}")
    assert page.status_code == 200 and "Bob Bakker" in page.text
    assert 'value="fewest_calls"' in page.text  # every strategy is a choice
    dutch = await ann.get(f"/app/admin/teams/{desk}", cookie=ann.headers["cookie"]
                          + "; teamfoned_lang=nl")
    assert "Leden en prioriteiten" in dutch.text


async def test_team_settings_form(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    desk = api.world.teams["desk"]
    action = f"/app/admin/teams/{desk}/settings"
    token = await ann.csrf(f"/app/admin/teams/{desk}")
    before = await api.snapshot()
    for form, field in [({"strategy": "loudest", "ring_time": "20", "max_wait": "60"}, "strategy"),
                        ({"strategy": "linear", "ring_time": "2", "max_wait": "60"}, "ring_time"),
                        ({"strategy": "linear", "ring_time": "x", "max_wait": "60"}, "ring_time"),
                        ({"strategy": "linear", "ring_time": "20", "max_wait": "99999"},
                         "max_wait")]:
        refused = await ann.post(action, {**form, "csrf": token})
        assert refused.status_code == 422, (form, refused.text)
        assert f'id="{field}-problem"' in refused.text, refused.text
    assert (await ann.post(action, {"strategy": "linear", "ring_time": "20",
                                    "max_wait": "60"})).status_code == 403  # no CSRF token
    assert (await ann.post(action, {"csrf": token, "strategy": "linear", "ring_time": "20",
                                    "max_wait": "60"}, origin="https://evil.example")
            ).status_code == 403
    assert await api.snapshot() == before
    done = await ann.post(action, {"csrf": token, "strategy": "linear", "ring_time": "20",
                                   "max_wait": "90"})
    assert done.status_code == 303 and done.headers["location"].endswith("?saved=1")
    team = await _team(api)
    assert (team["strategy"], team["ring_time"], team["max_wait"]) == ("linear", 20, 90)


async def test_team_membership_forms(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    desk = api.world.teams["desk"]
    add = f"/app/admin/teams/{desk}/members"
    token = await ann.csrf(f"/app/admin/teams/{desk}")
    bob, carol = str(api.world.id("bob")), str(api.world.id("carol"))
    before = await api.snapshot()
    refused = await ann.post(add, {"csrf": token, "member": bob, "priority": "-1"})
    assert refused.status_code == 422 and f'id="priority-{bob}-problem"' in refused.text
    refused = await ann.post(add, {"csrf": token, "row": "new", "member": carol,
                                   "priority": "lots"})
    assert refused.status_code == 422 and 'id="priority-new-problem"' in refused.text
    refused = await ann.post(add, {"csrf": token, "member": "nobody", "priority": "1"})
    assert refused.status_code == 422 and 'id="member-problem"' in refused.text
    assert (await ann.post(add, {"member": bob, "priority": "3"})).status_code == 403
    assert await api.snapshot() == before

    assert (await ann.post(add, {"csrf": token, "member": bob, "priority": "7"})).status_code == 303
    assert (await ann.post(add, {"csrf": token, "row": "new", "member": carol,
                                 "priority": "2"})).status_code == 303
    priorities = _priorities(await _team(api))
    assert (priorities[bob], priorities[carol]) == (7, 2)
    removed = await ann.post(f"{add}/{carol}/remove", {"csrf": token})
    assert removed.status_code == 303
    assert carol not in _priorities(await _team(api))
    assert (await ann.post(f"{add}/{bob}/remove", {})).status_code == 403
    assert bob in _priorities(await _team(api))


async def test_team_pages_are_for_own_admins_only(api: LiveApi) -> None:
    desk, ops = api.world.teams["desk"], api.world.teams["ops"]
    bob = await sign_in(api, "bob")
    for path in ["/app/admin/teams", f"/app/admin/teams/{desk}"]:
        assert (await bob.get(path)).status_code == 404
    bob_token = await bob.csrf()
    before = await api.snapshot()
    assert (await bob.post(f"/app/admin/teams/{desk}/settings",
                           {"csrf": bob_token, "strategy": "random", "ring_time": "20",
                            "max_wait": "60"})).status_code == 404
    assert (await bob.post(f"/app/admin/teams/{desk}/members",
                           {"csrf": bob_token, "member": str(api.world.id("bob")),
                            "priority": "9"})).status_code == 404
    ann = await sign_in(api, "ann")
    token = await ann.csrf("/app/admin/teams")
    assert (await ann.get(f"/app/admin/teams/{ops}")).status_code == 404
    assert (await ann.post(f"/app/admin/teams/{ops}/settings",
                           {"csrf": token, "strategy": "random", "ring_time": "20",
                            "max_wait": "60"})).status_code == 404
    gina, hank = str(api.world.id("gina")), str(api.world.id("hank"))
    # Another tenant's member into our team, or out of theirs: not found either way.
    assert (await ann.post(f"/app/admin/teams/{desk}/members",
                           {"csrf": token, "member": gina, "priority": "1"})).status_code == 404
    assert (await ann.post(f"/app/admin/teams/{ops}/members/{hank}/remove",
                           {"csrf": token})).status_code == 404
    after = await api.snapshot()
    # Ann's sign-in is the one new row; nothing of any team changed.
    assert {k: v for k, v in after.items() if k != "web_sessions"} == {
        k: v for k, v in before.items() if k != "web_sessions"}


async def test_team_hours_and_holidays_forms(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    care = api.world.teams["care"]
    base = f"/app/admin/teams/{care}"
    token = await ann.csrf(base)
    before = await api.snapshot()
    for hours in ["mon-fri 8:00", "someday 08:00-17:00", "mon 17:00-08:00",
                  "mon 08:00-12:00\nmon 11:00-13:00"]:  # overlapping
        refused = await ann.post(f"{base}/hours", {"csrf": token, "hours": hours})
        assert refused.status_code == 422, (hours, refused.text)
        assert 'id="hours-problem"' in refused.text
    for day, field in [("31-12-2030", "holiday_date"), ("2030-02-30", "holiday_date"),
                       ("2030-12-25", "holiday_name")]:
        refused = await ann.post(f"{base}/holidays", {"csrf": token, "date": day,
                                                      "name": "x" * 101})
        assert refused.status_code == 422, (day, refused.text)
        assert f'id="{field}-problem"' in refused.text, refused.text
    assert (await ann.post(f"{base}/hours", {"hours": "mon 08:00-17:00"})).status_code == 403
    assert (await ann.post(f"{base}/holidays", {"date": "2030-12-25"})).status_code == 403
    assert await api.snapshot() == before

    done = await ann.post(f"{base}/hours", {"csrf": token,
                                            "hours": "mon-fri 08:00-12:00,13:00-17:00\r\n"
                                                     "sat 10:00-12:00"})
    assert done.status_code == 303
    hours = (await api.client.get(f"/v1/admin/teams/{care}/hours",
                                  headers=api.world.auth("ann"))).json()
    assert len(hours["periods"]) == 11
    assert {"weekday": 5, "starts": "10:00", "ends": "12:00"} in hours["periods"]
    page = await ann.get(base)
    assert "sat 10:00-12:00" in page.text  # shown back in the same syntax
    added = await ann.post(f"{base}/holidays", {"csrf": token, "date": "2030-12-25",
                                                "name": "Christmas"})
    assert added.status_code == 303
    holidays = (await api.client.get(f"/v1/admin/teams/{care}/holidays",
                                     headers=api.world.auth("ann"))).json()
    assert holidays == [{"date": "2030-12-25", "name": "Christmas"}]
    assert (await ann.post(f"{base}/holidays/2030-12-25/remove", {})).status_code == 403
    gone = await ann.post(f"{base}/holidays/2030-12-25/remove", {"csrf": token})
    assert gone.status_code == 303
    assert (await api.client.get(f"/v1/admin/teams/{care}/holidays",
                                 headers=api.world.auth("ann"))).json() == []
    cleared = await ann.post(f"{base}/hours", {"csrf": token, "hours": ""})
    assert cleared.status_code == 303
    ops = api.world.teams["ops"]
    assert (await ann.post(f"/app/admin/teams/{ops}/hours",
                           {"csrf": token, "hours": "mon 08:00-17:00"})).status_code == 404
    assert (await ann.post(f"/app/admin/teams/{ops}/holidays",
                           {"csrf": token, "date": "2030-12-25"})).status_code == 404

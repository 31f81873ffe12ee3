"""Team data over real HTTP: line states, history pages newest first, statistics; only for the team's members."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.integration.test_api_bench import PHOTO, LiveApi, api_fixture, error_of  # noqa: F401


async def test_my_teams_and_team_view_with_line_states(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    desk = api.world.teams["desk"]
    mine = (await api.client.get("/v1/teams", headers=ann)).json()
    assert [(t["id"], t["name"]) for t in mine] == [(str(desk), "desk")]
    view = await api.client.get(f"/v1/teams/{desk}", headers=ann)
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["numbers"] == ["+31201234567"] and body["wrap_up_s"] == 10
    states = {m["name"]: (m["line_state"], m["available"]) for m in body["members"]}
    assert states == {
        "Ann Admin": ("in_call", True),
        "Bob Bakker": ("ringing", False),  # still ringing, though his availability expired
        "Dave Desk": ("wrap_up", True),
        "Erin Idle": ("idle", True),
        "Frank Off": ("unavailable", False),
    }
    # Teammates see availability, not phone numbers.
    assert all("phone" not in m for m in body["members"])
    # Wrap-up ends after the team's wrap-up time.
    api.clock.now += timedelta(seconds=10)
    body = (await api.client.get(f"/v1/teams/{desk}", headers=ann)).json()
    assert {m["name"]: m["line_state"] for m in body["members"]}["Dave Desk"] == "idle"


async def test_teammate_photo(api: LiveApi) -> None:
    desk, bob = api.world.teams["desk"], api.world.id("bob")
    got = await api.client.get(f"/v1/teams/{desk}/members/{bob}/photo",
                               headers=api.world.auth("ann"))
    assert (got.status_code, got.content) == (200, PHOTO)
    ann = api.world.id("ann")
    assert (await api.client.get(f"/v1/teams/{desk}/members/{ann}/photo",
                                 headers=api.world.auth("bob"))).status_code == 404
    # Carol is not in desk: the team, and so the photo, does not exist for her.
    assert (await api.client.get(f"/v1/teams/{desk}/members/{bob}/photo",
                                 headers=api.world.auth("carol"))).status_code == 404


async def test_call_history_pages_newest_first(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    desk = api.world.teams["desk"]
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await api.client.get(f"/v1/teams/{desk}/calls", headers=ann, params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += body["calls"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    calls = api.world.calls
    assert [c["id"] for c in seen] == [str(calls[k]) for k in (
        "bob_ringing", "ann_talking", "dave_done", "timed_out", "nobody", "abandoned",
        "old_answered")]
    assert pages == 4
    first = seen[-1]
    assert first["outcome"] == "answered" and first["answered_by"] == str(api.world.id("erin"))
    assert [(a["member_name"], a["result"]) for a in first["attempts"]] == [
        ("Frank Off", "no_answer"), ("Erin Idle", "answered")]
    for bad in [{"cursor": "not-a-cursor"}, {"cursor": "bm9wZQ"}, {"limit": 0}, {"limit": 201},
                {"limit": "many"}]:
        done = await api.client.get(f"/v1/teams/{desk}/calls", headers=ann, params=bad)
        assert done.status_code == 422, (bad, done.text)
        assert error_of(done)["fields"], done.text


async def test_statistics(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    desk = api.world.teams["desk"]
    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann)).json()
    assert {k: stats[k] for k in ("received", "answered", "abandoned", "missed",
                                  "average_wait_s", "p90_wait_s")} == {
        "received": 5, "answered": 2, "abandoned": 1, "missed": 2, "average_wait_s": 7.0,
        "p90_wait_s": 10.0}
    # The last hour only: the abandoned call started exactly an hour ago, so it is in.
    start = api.clock.now - timedelta(hours=1)
    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann,
                                  params={"from": start.isoformat()})).json()
    assert (stats["received"], stats["answered"], stats["p90_wait_s"]) == (4, 1, 4.0)
    for bad in [{"from": "yesterday"}, {"from": "2020-01-01T00:00:00Z", "to": "2019-01-01T00:00:00Z"},
                {"from": "2000-01-01T00:00:00Z"}]:
        done = await api.client.get(f"/v1/teams/{desk}/stats", headers=ann, params=bad)
        assert done.status_code == 422, (bad, done.text)
        error_of(done)


async def test_a_team_i_am_not_in_does_not_exist_for_me(api: LiveApi) -> None:
    carol = api.world.auth("carol")  # in care, not in desk
    desk = api.world.teams["desk"]
    missing = uuid.uuid4()
    for path in ("", "/calls", "/stats"):
        mine = await api.client.get(f"/v1/teams/{desk}{path}", headers=carol)
        nothing = await api.client.get(f"/v1/teams/{missing}{path}", headers=carol)
        assert mine.status_code == nothing.status_code == 404
        assert mine.json() == nothing.json() == {"error": {
            "code": "not_found", "message": "no such team", "fields": []}}
    assert (await api.client.get(f"/v1/teams/{desk}")).status_code == 401
    assert (await api.client.get("/v1/teams/not-a-uuid", headers=carol)).status_code == 422

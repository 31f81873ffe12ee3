"""Missed-call follow-up over real HTTP: the list to call back, marking handled once, refusals that write nothing."""

from __future__ import annotations

from datetime import timedelta

import jsonschema

from teamfoned.api.export import export_schema
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


def _ids(api: LiveApi, *keys: str) -> list[str]:
    return [str(api.world.calls[k]) for k in keys]


async def test_missed_calls_listed_unhandled_first_and_marked_once(api: LiveApi) -> None:
    bob, ann, c = api.world.auth("bob"), api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    listed = await c.get(f"/v1/teams/{desk}/missed", headers=bob)
    assert listed.status_code == 200, listed.text
    calls = listed.json()["calls"]
    # Only unanswered finished calls, newest first: no answered ones, none in progress.
    assert [x["id"] for x in calls] == _ids(api, "timed_out", "nobody", "abandoned")
    first = calls[0]
    assert (first["caller_number"], first["outcome"], first["wait_seconds"]) == (
        "+31612345672", "timed_out", 120.0)
    assert first["handled"] is False and first["handled_by"] is None and first["started_at"]

    api.clock.now += timedelta(minutes=5)
    done = await c.post(f"/v1/teams/{desk}/calls/{api.world.calls['nobody']}/handled",
                        headers=bob)
    assert done.status_code == 200, done.text
    marked = done.json()
    assert marked["handled"] is True and marked["handled_by"] == str(api.world.id("bob"))
    assert marked["handled_by_name"] == "Bob Bakker" and marked["handled_at"]
    # A second mark, even by someone else, keeps the first handler and time.
    api.clock.now += timedelta(minutes=5)
    again = await c.post(f"/v1/teams/{desk}/calls/{api.world.calls['nobody']}/handled",
                         headers=ann)
    assert again.status_code == 200 and again.json() == marked

    calls = (await c.get(f"/v1/teams/{desk}/missed", headers=bob)).json()["calls"]
    assert [x["id"] for x in calls] == _ids(api, "timed_out", "abandoned", "nobody")
    open_only = (await c.get(f"/v1/teams/{desk}/missed", headers=bob,
                             params={"unhandled_only": "true"})).json()["calls"]
    assert [x["id"] for x in open_only] == _ids(api, "timed_out", "abandoned")

    # The call history says who called back.
    history = (await c.get(f"/v1/teams/{desk}/calls", headers=bob)).json()["calls"]
    by_id = {x["id"]: x for x in history}
    assert by_id[str(api.world.calls["nobody"])]["handled_by"] == str(api.world.id("bob"))
    assert by_id[str(api.world.calls["nobody"])]["handled_at"] == marked["handled_at"]
    assert by_id[str(api.world.calls["abandoned"])]["handled_by"] is None

    # And the export, which still validates.
    document = (await c.get("/v1/export", headers=ann)).json()
    jsonschema.validate(document, export_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    exported = {x["id"]: x for x in document["calls"]}
    assert exported[str(api.world.calls["nobody"])]["handled_by"] == str(api.world.id("bob"))


async def test_missed_pages_cross_from_unhandled_to_handled(api: LiveApi) -> None:
    bob, c = api.world.auth("bob"), api.client
    desk = api.world.teams["desk"]
    await c.post(f"/v1/teams/{desk}/calls/{api.world.calls['timed_out']}/handled", headers=bob)
    seen, cursor = [], None
    for _ in range(5):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await c.get(f"/v1/teams/{desk}/missed", headers=bob, params=params)).json()
        seen += [x["id"] for x in page["calls"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == _ids(api, "nobody", "abandoned", "timed_out")
    bad = await c.get(f"/v1/teams/{desk}/missed", headers=bob, params={"cursor": "bm9wZQ"})
    assert bad.status_code == 422 and error_of(bad)["fields"][0]["field"] == "cursor"
    for params in ({"limit": 0}, {"limit": 201}, {"unhandled_only": "maybe"}):
        done = await c.get(f"/v1/teams/{desk}/missed", headers=bob, params=params)
        assert done.status_code == 422, params


async def test_answered_or_open_calls_are_refused_and_nothing_is_written(api: LiveApi) -> None:
    bob, c = api.world.auth("bob"), api.client
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    for key in ("dave_done", "old_answered", "ann_talking", "bob_ringing"):
        done = await c.post(f"/v1/teams/{desk}/calls/{api.world.calls[key]}/handled", headers=bob)
        assert done.status_code == 422, (key, done.text)
        error = error_of(done)
        assert error["code"] == "invalid" and error["fields"][0]["field"] == "call_id"
    answered = await c.post(f"/v1/teams/{desk}/calls/{api.world.calls['dave_done']}/handled",
                            headers=bob)
    assert "answered" in error_of(answered)["fields"][0]["message"]
    assert await api.snapshot() == before


async def test_other_teams_and_tenants_calls_are_404(api: LiveApi) -> None:
    c, world = api.client, api.world
    desk, care, ops = world.teams["desk"], world.teams["care"], world.teams["ops"]
    before = await api.snapshot()
    cases = [
        ("bob", desk, world.calls["globex_call"]),  # another tenant's call under my team
        ("bob", desk, world.calls["care_call"]),  # my tenant, another team's call
        ("bob", care, world.calls["care_call"]),  # a team I am not in
        ("carol", desk, world.calls["nobody"]),
        ("ann", ops, world.calls["globex_call"]),  # an admin reaches only her own tenant
        ("hank", desk, world.calls["nobody"]),
    ]
    for who, team, call in cases:
        done = await c.post(f"/v1/teams/{team}/calls/{call}/handled", headers=world.auth(who))
        assert done.status_code == 404, (who, done.text)
        assert error_of(done)["code"] == "not_found"
    for who, team in (("bob", care), ("hank", desk), ("ann", ops)):
        done = await c.get(f"/v1/teams/{team}/missed", headers=world.auth(who))
        assert done.status_code == 404, (who, done.text)
    assert (await c.get(f"/v1/teams/{desk}/missed")).status_code == 401
    assert await api.snapshot() == before


async def test_erased_handler_leaves_the_call_handled(api: LiveApi) -> None:
    c, world = api.client, api.world
    desk = world.teams["desk"]
    await c.post(f"/v1/teams/{desk}/calls/{world.calls['abandoned']}/handled",
                 headers=world.auth("bob"))
    assert (await c.delete("/v1/me", headers=world.auth("bob"))).status_code == 204
    calls = (await c.get(f"/v1/teams/{desk}/missed", headers=world.auth("ann"))).json()["calls"]
    abandoned = next(x for x in calls if x["id"] == str(world.calls["abandoned"]))
    assert abandoned["handled"] is True and abandoned["handled_by"] is None
    assert abandoned["handled_by_name"] is None and calls[-1] == abandoned


async def test_new_paths_are_in_the_openapi_document(api: LiveApi) -> None:
    served = (await api.client.get("/openapi.json")).json()
    assert "get" in served["paths"]["/v1/teams/{team_id}/missed"]
    assert "post" in served["paths"]["/v1/teams/{team_id}/calls/{call_id}/handled"]
    schemas = served["components"]["schemas"]
    assert {"handled_by", "handled_at"} <= set(schemas["CallOut"]["properties"])
    assert {"caller_number", "outcome", "wait_seconds", "handled_by"} <= set(
        schemas["MissedCallOut"]["properties"])

"""The web app's pages over real HTTP: my data, calls to call back, admin, the live team stream; same rules as the API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from teamfoned.store.tables import calls, waiting_entries
from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    LiveApi,
    api_fixture,
    jpeg_bytes,
)
from tests.integration.test_web_sign_in import Browser, sign_in


async def test_my_data_edits_go_through_the_apis_checks(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    token = await bob.csrf("/app/me")
    before = await api.snapshot()
    for form, field in [({"name": "Bob", "phone": "+319001234567"}, "phone"),  # premium rate
                        ({"name": "Bob", "phone": "x&PJSIP/evil"}, "phone"),
                        ({"name": "", "phone": "+31612345672"}, "name")]:
        refused = await bob.post("/app/me", {**form, "csrf": token})
        assert refused.status_code == 422, (form, refused.text)
        assert f'id="{field}-problem"' in refused.text, refused.text
    assert await api.snapshot() == before
    done = await bob.post("/app/me", {"csrf": token, "name": "Bob B.",
                                      "phone": "+31 6 1234 5699"})
    assert done.status_code == 303
    me = (await api.client.get("/v1/me", headers=api.world.auth("bob"))).json()
    assert (me["name"], me["phone"]) == ("Bob B.", "+31612345699")


async def test_photo_upload_download_and_erasure(api: LiveApi) -> None:
    erin = await sign_in(api, "erin")
    token = await erin.csrf("/app/me")
    refused = await api.client.post("/app/me/photo", headers=erin.headers, data={"csrf": token},
                                    files={"photo": ("x.gif", b"GIF89a", "image/gif")})
    assert refused.status_code == 422
    done = await api.client.post("/app/me/photo", headers=erin.headers, data={"csrf": token},
                                 files={"photo": ("me.jpg", jpeg_bytes(40, 40), "image/jpeg")})
    assert done.status_code == 303, done.text
    photo = await erin.get("/app/me/photo")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    # The upload without the session's token is refused like any other change.
    assert (await api.client.post("/app/me/photo", headers=erin.headers,
                                  files={"photo": ("me.jpg", jpeg_bytes(), "image/jpeg")})
            ).status_code == 403

    data = await erin.get("/app/me/data.json")
    assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
    mine = data.json()
    assert mine["member"]["name"] == "Erin Idle"
    members_seen = {a["member_id"] for c in mine["calls"] for a in c["attempts"]}
    assert members_seen == {str(api.world.id("erin"))}
    assert "Frank" not in data.text and "Globex" not in data.text

    page = await erin.get("/app/me/delete")
    assert "cannot be undone" in page.text
    before = await api.snapshot()
    assert (await erin.post("/app/me/delete", {"csrf": token})).status_code == 422
    assert await api.snapshot() == before
    gone = await erin.post("/app/me/delete", {"csrf": token, "confirm": "yes"})
    assert gone.status_code == 303 and gone.headers["location"] == "/app/deleted"
    assert (await erin.get("/app/status")).status_code == 401
    assert "Erin Idle" not in json.dumps([list(map(repr, r)) for r in
                                          (await api.snapshot()).values()])


async def test_calls_to_call_back_with_tel_links_and_mark_handled(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    page = await ann.get("/app/calls")
    assert page.status_code == 200
    desk, timed_out = api.world.teams["desk"], api.world.calls["timed_out"]
    assert 'href="tel:+31612345672"' in page.text  # the timed-out call's caller
    assert "waited too long" in page.text and "no answer" in page.text
    action = f"/app/teams/{desk}/calls/{timed_out}/handled"
    assert action in page.text
    done = await ann.post(action, {"csrf": await ann.csrf("/app/calls")})
    assert done.status_code == 303
    missed = (await api.client.get(f"/v1/teams/{desk}/missed",
                                   headers=api.world.auth("ann"))).json()
    handled = [c for c in missed["calls"] if c["id"] == str(timed_out)]
    assert handled and handled[0]["handled_by"] == str(api.world.id("ann")), missed
    assert action not in (await ann.get("/app/calls")).text
    # A team the member is not in: nothing to mark, nothing changed.
    care_call = api.world.calls["care_call"]
    before = await api.snapshot()
    refused = await ann.post(f"/app/teams/{api.world.teams['care']}/calls/{care_call}/handled",
                             {"csrf": await ann.csrf("/app/calls")})
    assert refused.status_code == 404
    assert await api.snapshot() == before


async def test_admin_pages_invite_sign_out_and_are_hidden_from_members(api: LiveApi) -> None:
    bob = await sign_in(api, "bob")
    assert (await bob.get("/app/admin")).status_code == 404
    assert (await bob.get("/app/admin/export.json")).status_code == 404
    ann = await sign_in(api, "ann")
    page = await ann.get("/app/admin")
    assert page.status_code == 200 and "Bob Bakker" in page.text and "Gina" not in page.text
    token = await ann.csrf("/app/admin")
    bob_id = api.world.id("bob")
    invited = await ann.post(f"/app/admin/members/{bob_id}/invite", {"csrf": token})
    assert invited.status_code == 200
    code = re.search(r'value="[^"]*/app/sign-in\?code=([A-Za-z0-9_-]+)"', invited.text)
    assert code
    second = await Browser(api).post("/app/sign-in", {"code": code.group(1)})
    assert second.status_code == 303
    out = await ann.post(f"/app/admin/members/{bob_id}/sign-out", {"csrf": token})
    assert out.status_code == 200 and "Signed out of 2 device(s)." in out.text
    assert (await bob.get("/app/status")).status_code == 401
    export = await ann.get("/app/admin/export.json")
    assert export.json()["tenant"]["name"] == "acme"
    foreign = await ann.post(f"/app/admin/members/{api.world.id('gina')}/sign-out",
                             {"csrf": token})
    assert foreign.status_code == 404


async def test_team_stream_sends_line_states_and_refuses_other_teams(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    desk = api.world.teams["desk"]
    async with api.client.stream("GET", f"/app/teams/{desk}/events",
                                 headers=ann.headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = ""
        async for chunk in stream.aiter_text():
            text += chunk
            if "event: team" in text and text.endswith("\n\n"):
                break
    data = json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])
    states = {m["id"]: m["state"] for m in data["members"]}
    assert states[str(api.world.id("bob"))] == "ringing"
    assert states[str(api.world.id("ann"))] == "in_call"
    assert (await ann.get(f"/app/teams/{api.world.teams['care']}/events")).status_code == 404


async def test_team_page_and_stream_show_the_teams_waiting_line(api: LiveApi) -> None:
    ann = await sign_in(api, "ann")
    desk = api.world.teams["desk"]
    empty = await ann.get("/app/team")
    assert "Nobody is waiting in the team&#39;s line." in empty.text
    # An open call of the team in its line since 40 s ago (it started 60 s ago).
    await _enter_line(api, "ann_talking", 20)
    page = await ann.get("/app/team")
    assert re.search(r"Waiting in the team&#39;s line: 1, the longest for 4\d s\.", page.text), page.text
    async with api.client.stream("GET", f"/app/teams/{desk}/events", headers=ann.headers) as stream:
        text = ""
        async for chunk in stream.aiter_text():
            text += chunk
            if "event: team" in text and text.endswith("\n\n"):
                break
    data = json.loads(text.split("data: ", 1)[1].split("\n", 1)[0])
    assert data["waiting"] == 1 and data["waiting_text"].startswith("Waiting in the team's line: 1,")
    # The waiting caller asks to be called back: the page says so.
    async with api.sessions() as session, session.begin():
        await session.execute(update(waiting_entries).where(
            waiting_entries.c.call_id == api.world.calls["ann_talking"]).values(
            callback_requested_at=datetime.now(UTC)))
    page = await ann.get("/app/team")
    assert "Of them, 1 asked to be called back." in page.text, page.text


async def _enter_line(api: LiveApi, call: str, joined_after: float) -> None:
    async with api.sessions() as session, session.begin():
        row = (await session.execute(select(calls).where(calls.c.id == api.world.calls[call]))).one()
        await session.execute(insert(waiting_entries).values(
            call_id=row.id, tenant_id=row.tenant_id, team_id=row.team_id, node=row.node,
            arrived_at=row.started_at, joined_at=row.started_at + timedelta(seconds=joined_after)))


async def test_installable_assets(api: LiveApi) -> None:
    anonymous = Browser(api)
    manifest = await anonymous.get("/app/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.json()["start_url"] == "/app/status"
    worker = await anonymous.get("/app/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]
    for asset in ["/app/static/app.js", "/app/static/icon.svg"]:
        assert (await anonymous.get(asset)).status_code == 200

"""Webhooks for tenant admins over real HTTP: the secret shown once, refusals that write nothing, deliveries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from teamfoned.config import settings_from_dict
from teamfoned.store.outbox import enqueue_call_events
from teamfoned.store.tables import webhook_deliveries, webhooks
from tests.integration.test_api_bench import LiveApi, error_of, live

HOOK = {"url": "https://hooks.example.com/teamfoned", "events": ["call.missed", "call.finished"]}


@pytest.fixture(name="api")
async def api_fixture(migrated_db_url: str) -> AsyncIterator[LiveApi]:
    """The bench's API, on a site whose sysadmin allows a local relay at 127.0.0.1:9000."""
    settings = settings_from_dict({"ari": {"password": "unused"}, "routing": {"wrap_up": 10},
                                   "webhooks": {"allow_destinations": ["127.0.0.1:9000"]}})
    async with live(migrated_db_url, settings) as running:
        yield running


async def test_webhook_created_listed_and_removed(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    made = await c.post("/v1/admin/webhooks", headers=ann, json=HOOK)
    assert made.status_code == 201, made.text
    hook = made.json()
    secret = hook.pop("secret")
    assert len(secret) >= 40
    assert hook["url"] == HOOK["url"] and hook["events"] == ["call.finished", "call.missed"]
    local = await c.post("/v1/admin/webhooks", headers=ann,
                         json={"url": "http://127.0.0.1:9000/relay", "events": ["call.missed"]})
    assert local.status_code == 201, local.text
    listed = await c.get("/v1/admin/webhooks", headers=ann)
    assert listed.status_code == 200
    assert [h["id"] for h in listed.json()] == [hook["id"], local.json()["id"]]
    assert listed.json()[0] == hook and secret not in listed.text
    # Another tenant's admin sees none of them.
    assert (await c.get("/v1/admin/webhooks", headers=api.world.auth("gina"))).json() == []

    assert (await c.delete(f"/v1/admin/webhooks/{hook['id']}", headers=ann)).status_code == 204
    gone = await c.delete(f"/v1/admin/webhooks/{hook['id']}", headers=ann)
    assert gone.status_code == 404 and error_of(gone)["code"] == "not_found"
    assert [h["id"] for h in (await c.get("/v1/admin/webhooks", headers=ann)).json()] == [
        local.json()["id"]]


async def test_refused_webhooks_write_nothing(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    before = await api.snapshot()
    for body, field in [
        ({**HOOK, "url": "http://hooks.example.com/x"}, "url"),  # plain http over a network
        ({**HOOK, "url": "ftp://hooks.example.com/x"}, "url"),
        ({**HOOK, "url": "https://user:pw@hooks.example.com/x"}, "url"),
        ({**HOOK, "url": "https://[::1/x"}, "url"),
        ({**HOOK, "url": "not a url"}, "url"),
        ({**HOOK, "url": "https://example.com/" + "x" * 500}, "url"),
        ({**HOOK, "events": ["call.answered"]}, "events"),
        ({**HOOK, "events": []}, "events"),
        ({"url": HOOK["url"]}, "events"),
        ({**HOOK, "secret": "mine"}, "secret"),
    ]:
        done = await c.post("/v1/admin/webhooks", headers=ann, json=body)
        assert done.status_code == 422, (body, done.text)
        error = error_of(done)
        assert error["code"] == "invalid" and error["fields"][0]["field"] == field, (body, error)
    assert await api.snapshot() == before


async def test_deliveries_show_progress_never_the_secret(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    made = (await c.post("/v1/admin/webhooks", headers=ann, json=HOOK)).json()
    async with api.sessions() as session, session.begin():
        queued = await enqueue_call_events(session, api.world.calls["nobody"],
                                           now=api.clock.now - timedelta(minutes=1))
        assert queued == 2
        await enqueue_call_events(session, api.world.calls["dave_done"], now=api.clock.now)
        missed = await session.scalar(select(webhook_deliveries.c.id).where(
            webhook_deliveries.c.event == "call.missed"))
        await session.execute(update(webhook_deliveries).where(
            webhook_deliveries.c.id == missed).values(
            attempts=2, delivered_at=api.clock.now, last_error="HTTP 503"))
    done = await c.get(f"/v1/admin/webhooks/{made['id']}/deliveries", headers=ann)
    assert done.status_code == 200, done.text
    rows = done.json()
    # The answered call's event is the newest; the missed call's two came a minute earlier.
    assert rows[0]["event"] == "call.finished"
    assert sorted(r["event"] for r in rows[1:]) == ["call.finished", "call.missed"]
    assert rows[0]["created_at"] > rows[-1]["created_at"]  # newest first
    delivered = next(r for r in rows if r["event"] == "call.missed")
    assert (delivered["attempts"], delivered["last_error"], delivered["next_attempt_at"]) == (
        2, "HTTP 503", None)
    assert delivered["delivered_at"] is not None
    pending = rows[0]
    assert pending["delivered_at"] is None and pending["next_attempt_at"] is not None
    assert set(pending) == {"id", "event", "created_at", "attempts", "next_attempt_at",
                            "delivered_at", "last_error"}
    assert made["secret"] not in done.text and "caller_number" not in done.text
    limited = await c.get(f"/v1/admin/webhooks/{made['id']}/deliveries", headers=ann,
                          params={"limit": 1})
    assert len(limited.json()) == 1
    for params in ({"limit": 0}, {"limit": 201}):
        bad = await c.get(f"/v1/admin/webhooks/{made['id']}/deliveries", headers=ann,
                          params=params)
        assert bad.status_code == 422


async def test_members_and_other_tenants_cannot_reach_webhooks(api: LiveApi) -> None:
    c, world = api.client, api.world
    made = (await c.post("/v1/admin/webhooks", headers=world.auth("ann"), json=HOOK)).json()
    before = await api.snapshot()
    paths = [("get", "/v1/admin/webhooks", None), ("post", "/v1/admin/webhooks", HOOK),
             ("delete", f"/v1/admin/webhooks/{made['id']}", None),
             ("get", f"/v1/admin/webhooks/{made['id']}/deliveries", None)]
    for method, path, body in paths:
        done = await c.request(method, path, headers=world.auth("bob"), json=body)
        assert done.status_code == 403 and error_of(done)["code"] == "forbidden", path
    for method, path, body in paths[2:]:
        done = await c.request(method, path, headers=world.auth("gina"), json=body)
        assert done.status_code == 404 and error_of(done)["code"] == "not_found", path
    assert await api.snapshot() == before
    async with api.sessions() as session:
        assert await session.scalar(select(webhooks.c.tenant_id)) == world.acme
    served = (await c.get("/openapi.json")).json()
    assert {"get", "post"} <= set(served["paths"]["/v1/admin/webhooks"])
    assert "delete" in served["paths"]["/v1/admin/webhooks/{webhook_id}"]
    assert "get" in served["paths"]["/v1/admin/webhooks/{webhook_id}/deliveries"]
    assert "secret" in served["components"]["schemas"]["WebhookCreated"]["properties"]
    assert "secret" not in json.dumps(served["components"]["schemas"]["WebhookOut"])

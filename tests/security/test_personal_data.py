"""Finding 5: erasure, retention and export cover every table that can hold personal data, webhook deliveries too.

A member's number reaches the webhook outbox as the caller id of a call they made to a team
number; after their erasure it is in no column of any table, nor (on SQLite) in the database
file or its write-ahead log. Retention removes old deliveries; the export carries webhooks
(never their secret) and deliveries.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from sqlalchemy import LargeBinary, String, Text, select, update

from teamfoned.api.export import export_schema
from teamfoned.cli import main
from teamfoned.store import outbox
from teamfoned.store.retention import purge_expired
from teamfoned.store.tables import Base, teams, webhook_deliveries
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

SECRET_FREE_URL = "https://hooks.example.com/teamfoned"


def _forms(phone: str) -> list[str]:
    digits = phone.lstrip("+")
    return ["+" + digits, digits, "00" + digits]


async def _webhook_with_deliveries(api: LiveApi) -> tuple[str, str]:
    """A webhook of acme, and deliveries for bob's own call (timed out: missed and finished)
    plus an answered call; one of bob's is marked sent. Returns the webhook id and secret."""
    made = await api.client.post("/v1/admin/webhooks", headers=api.world.auth("ann"), json={
        "url": SECRET_FREE_URL, "events": ["call.finished", "call.missed"]})
    assert made.status_code == 201, made.text
    now = api.clock.now
    async with api.sessions() as session, session.begin():
        for call in ("timed_out", "old_answered", "dave_done"):
            assert await outbox.enqueue_call_events(session, api.world.calls[call], now=now)
    async with api.sessions() as session, session.begin():
        rows = (await session.execute(select(webhook_deliveries.c.id, webhook_deliveries.c.payload)
                                      .order_by(webhook_deliveries.c.id))).all()
        bobs = [r.id for r in rows if api.world.people["bob"].phone in r.payload]
        assert len(bobs) == 2, rows  # call.finished and call.missed
        await session.execute(update(webhook_deliveries).where(webhook_deliveries.c.id == bobs[0])
                              .values(delivered_at=now, attempts=1))
    return made.json()["id"], made.json()["secret"]


async def _text_values(api: LiveApi) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text or binary value in every table."""
    found = []
    async with api.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for column in table.c:
                if not isinstance(column.type, String | Text | LargeBinary):
                    continue
                for value in (await session.execute(select(column))).scalars():
                    if value is not None:
                        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                        found.append((table.name, column.name, text))
    return found


def _in_schema(schema: dict[str, Any], path: str) -> bool:
    """Whether the export schema has the property at `path` ("members.tokens")."""
    node: dict[str, Any] = schema
    for key in path.split("."):
        while "$ref" in node or "items" in node:
            node = (schema["$defs"][node["$ref"].rsplit("/", 1)[1]] if "$ref" in node
                    else node["items"])
        if key not in node.get("properties", {}):
            return False
        node = node["properties"][key]
    return True


def test_every_table_is_classified() -> None:
    from teamfoned.store.personal_data import TABLES

    assert set(TABLES) == set(Base.metadata.tables), "classify every table in personal_data.TABLES"
    schema = export_schema()
    for name, treatment in TABLES.items():
        table = Base.metadata.tables[name]
        texts = {c.name for c in table.c if isinstance(c.type, String | Text | LargeBinary)}
        listed = set(treatment.personal) | set(treatment.plain)
        assert listed == texts, (name, "classify every text column", texts ^ listed)
        assert not set(treatment.personal) & set(treatment.plain), name
        assert treatment.holds and treatment.erasure and treatment.retention, name
        if treatment.export is not None:
            assert _in_schema(schema, treatment.export), (name, treatment.export)
        else:
            assert not treatment.personal, (name, "personal data that the export leaves out")


async def test_erasure_leaves_the_number_in_no_table(api: LiveApi) -> None:
    hook_id, secret = await _webhook_with_deliveries(api)
    bob = api.world.people["bob"]
    desk = api.world.teams["desk"]
    async with api.sessions() as session, session.begin():  # bob's mobile as the desk's last resort
        await session.execute(update(teams).where(teams.c.id == desk).values(
            fallback_kind="number", fallback_target=bob.phone, closed_kind="number",
            closed_target="00" + bob.phone.lstrip("+")))
    gone = await api.client.delete("/v1/me", headers=api.world.auth("bob"))
    assert gone.status_code == 204, gone.text
    async with api.sessions() as session:
        settings = (await session.execute(select(teams).where(teams.c.id == desk))).one()
    assert (settings.fallback_kind, settings.fallback_target) == ("dialplan", None)
    assert (settings.closed_kind, settings.closed_target) == (None, None)
    needles = [*_forms(bob.phone), bob.name, str(bob.id), bob.id.hex]
    for table, column, text in await _text_values(api):
        for needle in needles:
            assert needle not in text, (table, column, needle)
    # The deliveries stay, sent and pending alike, without the number; the pending one still goes.
    async with api.sessions() as session:
        rows = (await session.execute(select(webhook_deliveries))).all()
    assert len(rows) == 4
    about_bob = [r for r in rows
                 if json.loads(r.payload)["call"]["call_id"] == str(api.world.calls["timed_out"])]
    assert len(about_bob) == 2 and {r.delivered_at is None for r in about_bob} == {True, False}
    for row in about_bob:
        assert json.loads(row.payload)["call"]["caller_number"] is None
    pending = next(r for r in about_bob if r.delivered_at is None)
    assert pending.next_attempt_at <= api.clock.now and pending.attempts == 0
    call = json.loads(pending.payload)["call"]
    assert call["outcome"] == "timed_out" and call["dialled_number"] == "+31201234567"
    assert secret  # the webhook itself is the tenant's, not bob's: it stays
    hooks = (await api.client.get("/v1/admin/webhooks", headers=api.world.auth("ann"))).json()
    assert [h["id"] for h in hooks] == [hook_id]


async def test_retention_purges_old_deliveries(api: LiveApi) -> None:
    await _webhook_with_deliveries(api)
    async with api.sessions() as session, session.begin():
        kept = await purge_expired(session, now=api.clock.now)
    async with api.sessions() as session:
        assert len((await session.execute(select(webhook_deliveries.c.id))).all()) == 4
    assert all(getattr(p, "deliveries", 0) == 0 for p in kept)
    later = api.clock.now + timedelta(days=90, hours=1)  # past acme's 90 days
    async with api.sessions() as session, session.begin():
        report = await purge_expired(session, now=later)
    async with api.sessions() as session:
        assert (await session.execute(select(webhook_deliveries.c.id))).all() == []
    acme = next(p for p in report if p.tenant == "acme")
    assert acme.calls == 8 and getattr(acme, "deliveries", None) == 4  # globex's call stays


async def test_export_holds_webhooks_and_deliveries_never_the_secret(api: LiveApi) -> None:
    hook_id, secret = await _webhook_with_deliveries(api)
    done = await api.client.get("/v1/export", headers=api.world.auth("ann"))
    assert done.status_code == 200, done.text
    document: dict[str, Any] = done.json()
    jsonschema.validate(document, export_schema(),
                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert document["version"] == 3 and document["schema"] == "urn:teamfoned:export:v3"
    assert secret not in json.dumps(document)
    [hook] = document["webhooks"]
    assert hook["id"] == hook_id and hook["url"] == SECRET_FREE_URL
    assert sorted(hook["events"]) == ["call.finished", "call.missed"] and "secret" not in hook
    deliveries = document["deliveries"]
    assert len(deliveries) == 4 and {d["webhook_id"] for d in deliveries} == {hook_id}
    bobs = [d for d in deliveries
            if d["payload"]["call"]["call_id"] == str(api.world.calls["timed_out"])]
    assert {d["event"] for d in bobs} == {"call.finished", "call.missed"}
    assert {d["payload"]["call"]["caller_number"] for d in bobs} == {api.world.people["bob"].phone}
    assert sum(d["delivered_at"] is not None for d in deliveries) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_sqlite_file_and_its_log_forget_the_erased_name(api: LiveApi, db_url: str,
                                                              tmp_path: Path) -> None:
    await _webhook_with_deliveries(api)
    database = Path(db_url.split(":///", 1)[1])
    wal = database.with_name(database.name + "-wal")
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "pw"}, "database": {"url": db_url}}))

    async def by_console(who: str) -> None:
        code = await asyncio.to_thread(main, ["--config", str(config), "member", "remove",
                                              "--tenant", "acme", api.world.people[who].name])
        assert code == 0

    async def by_admin(who: str) -> None:
        gone = await api.client.delete(f"/v1/admin/members/{api.world.id(who)}",
                                       headers=api.world.auth("ann"))
        assert gone.status_code == 204, gone.text

    async def by_themselves(who: str) -> None:
        gone = await api.client.delete("/v1/me", headers=api.world.auth(who))
        assert gone.status_code == 204, gone.text

    # bob's number is also in the outbox; every way to erase someone ends with an empty log.
    for who, erase in (("bob", by_themselves), ("carol", by_admin), ("erin", by_console)):
        person = api.world.people[who]
        assert person.name.encode() in database.read_bytes() + wal.read_bytes()  # visible before
        await erase(who)
        for path in (database, wal):
            raw = path.read_bytes() if path.exists() else b""
            for needle in (person.name, *_forms(person.phone)):
                assert needle.encode() not in raw, (who, path.name, needle,
                                                     raw.count(needle.encode()))


async def test_erasure_of_an_unknown_member_is_404_and_writes_nothing(api: LiveApi) -> None:
    before = await api.snapshot()
    done = await api.client.delete(f"/v1/admin/members/{uuid.uuid4()}",
                                   headers=api.world.auth("ann"))
    assert done.status_code == 404 and error_of(done)["code"] == "not_found"
    assert await api.snapshot() == before

"""The availability line's store and settings: PINs over the API (hashed, refused cleanly), members by
phone across tenants, the directory file's PIN requirement; on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.directory import DirectoryError
from teamfoned.domain.pins import verify_pin
from teamfoned.store import line_repo
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.tables import member_phone_line, tenants
from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    LiveApi,
    api_fixture,
    error_of,
)
from tests.integration.test_import_directory import DIRECTORY, run_import

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_db_url)
    yield eng
    await eng.dispose()


async def test_a_member_sets_a_pin_and_language_and_only_a_hash_is_kept(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    before = await api.snapshot()
    for body, field in [({"pin": "12a4"}, "pin"), ({"pin": "123"}, "pin"), ({"pin": "7777"}, "pin"),
                        ({"pin": 1234}, "pin"), ({"language": "de"}, "language"),
                        ({"secret": "x"}, "secret")]:
        done = await api.client.put("/v1/me/phone-line", headers=bob, json=body)
        assert done.status_code == 422, (body, done.text)
        assert error_of(done)["fields"][0]["field"] == field, done.text
    assert await api.snapshot() == before

    done = await api.client.put("/v1/me/phone-line", headers=bob, json={"pin": "4826", "language": "nl"})
    assert done.status_code == 204, done.text
    async with api.sessions() as session:
        [row] = (await session.execute(select(member_phone_line))).all()
    assert row.language == "nl" and "4826" not in row.pin_hash and verify_pin("4826", row.pin_hash)
    export = (await api.client.get("/v1/export", headers=api.world.auth("ann"))).json()
    [line] = [m["phone_line"] for m in export["members"] if m["phone_line"] is not None]
    assert line["pin_set"] is True and line["language"] == "nl" and "pin_hash" not in line
    assert row.pin_hash not in str(export)


async def test_members_are_found_by_phone_in_every_tenant_and_wrong_pins_counted(db: AsyncEngine) -> None:
    doc = copy.deepcopy(DIRECTORY)
    other = copy.deepcopy(doc["tenants"][0])
    other["name"] = "other-practice"
    other["teams"][0]["numbers"] = ["+31207654399"]
    other["members"] = [m for m in other["members"] if m["name"] != "Desk"]
    del other["endpoints"]
    doc["tenants"].append(other)
    await run_import(db, doc)
    phone = doc["tenants"][0]["members"][0]["phone"]
    async with create_sessionmaker(db)() as session, session.begin():
        found = await line_repo.line_members(session, phone, now=NOW)
        assert len(found) == 2 and len({m.tenant_id for m in found}) == 2
        first = found[0]
        await line_repo.set_line(session, first.tenant_id, first.member_id, now=NOW, pin_hash="x")
        for right in (False, False, True, False):
            await line_repo.pin_entered(session, first.member_id, right, now=NOW + timedelta(seconds=1))
        [again] = [m for m in await line_repo.line_members(session, phone, now=NOW)
                   if m.member_id == first.member_id]
    assert again.pin_failures == 1 and again.pin_hash == "x"


async def test_the_directory_file_requires_pins_per_tenant(db: AsyncEngine) -> None:
    doc = copy.deepcopy(DIRECTORY)
    doc["tenants"][0]["phone_pin_required"] = "yes"
    with pytest.raises(DirectoryError) as info:
        await run_import(db, doc)
    assert any("phone_pin_required: must be true or false" in p for p in info.value.problems)
    doc["tenants"][0]["phone_pin_required"] = True
    assert "tenant practice: availability line PIN required" in await run_import(db, doc)
    assert await run_import(db, doc) == []
    async with db.connect() as conn:
        assert await conn.scalar(select(tenants.c.phone_pin_required)) is True

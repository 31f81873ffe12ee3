"""Tokens known from memory: a revocation or erasure in this process is refused at once; uses are written in batches."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
from sqlalchemy import select

from teamfoned.api import create_app
from teamfoned.api.token_uses import TokenUses
from teamfoned.store.tables import api_tokens
from teamfoned.store.tokens_repo import token_hash
from tests.integration.test_api_bench import LiveApi, serving
from tests.integration.test_api_statements import (  # noqa: F401  (cached_api provides `api`)
    cached_api,
    statements_of,
)


async def _new_token(api: LiveApi, who: str) -> tuple[dict[str, str], str]:
    made = await api.client.post(f"/v1/admin/members/{api.world.id(who)}/tokens",
                                 headers=api.world.auth("ann"), json={})
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}, made.json()["id"]


async def _last_used(api: LiveApi, token: str) -> datetime | None:
    async with api.sessions() as session:
        found: datetime | None = await session.scalar(
            select(api_tokens.c.last_used_at).where(api_tokens.c.token_hash == token_hash(token)))
    return found


async def test_a_revoked_token_is_refused_at_once(api: LiveApi) -> None:
    erin, token_id = await _new_token(api, "erin")
    assert (await api.client.get("/v1/me", headers=erin)).status_code == 200
    with statements_of(api) as seen:
        assert (await api.client.get("/v1/me", headers=erin)).status_code == 200
    assert not any("api_tokens" in s for s in seen), seen  # known from memory
    done = await api.client.delete(f"/v1/admin/tokens/{token_id}", headers=api.world.auth("ann"))
    assert done.status_code == 204
    assert (await api.client.get("/v1/me", headers=erin)).status_code == 401


async def test_an_erased_or_demoted_members_tokens_are_read_afresh(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    carol, _ = await _new_token(api, "carol")
    done = await api.client.patch(f"/v1/admin/members/{api.world.id('carol')}", headers=ann,
                                  json={"is_admin": True})
    assert done.status_code == 200, done.text
    assert (await api.client.get("/v1/admin/tokens", headers=carol)).status_code == 200
    done = await api.client.patch(f"/v1/admin/members/{api.world.id('carol')}", headers=ann,
                                  json={"is_admin": False})
    assert done.status_code == 200, done.text
    assert (await api.client.get("/v1/admin/tokens", headers=carol)).status_code == 403
    assert (await api.client.delete(f"/v1/admin/members/{api.world.id('carol')}",
                                    headers=ann)).status_code == 204
    assert (await api.client.get("/v1/me", headers=carol)).status_code == 401


async def test_a_batch_flush_writes_last_used(api: LiveApi) -> None:
    token = api.world.people["hank"].token
    assert token is not None
    async with api.sessions() as session:
        token_id: uuid.UUID = await session.scalar(
            select(api_tokens.c.id).where(api_tokens.c.token_hash == token_hash(token)))
    uses = TokenUses(api.sessions)
    uses.used(token_id, api.clock.now)
    assert await _last_used(api, token) is None  # nothing written per use
    await uses.flush()
    assert await _last_used(api, token) == api.clock.now
    assert uses.pending == 0


async def test_a_clean_stop_writes_the_last_uses(api: LiveApi) -> None:
    token = api.world.people["gina"].token
    assert token is not None
    app = create_app(api.sessions, api.settings, clock=api.clock)
    async with serving(app, api.settings) as url, httpx.AsyncClient(base_url=url) as client:
        done = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert done.status_code == 200
    assert await _last_used(api, token) == api.clock.now

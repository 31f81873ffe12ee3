"""Issue 12 #8: bad tokens never lock out a valid token, guessing stays limited; the compose config declares its proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from teamfoned.api import create_app
from teamfoned.store.engine import create_engine, create_sessionmaker
from tests.integration.test_api_bench import (  # noqa: F401
    FakeClock,
    LiveApi,
    World,
    api_fixture,
    api_settings,
    error_of,
    seed,
    serving,
)

REPO = Path(__file__).resolve().parents[2]
BAD = {"Authorization": "Bearer tfd_wrong-wrong-wrong-wrong-wrong"}


async def test_a_valid_token_passes_after_many_bad_ones_from_its_address(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    limit = api.settings.http.auth_failures_per_minute
    for _ in range(limit):
        assert (await api.client.get("/v1/me", headers=BAD)).status_code == 401
    # Past the limit, bad tokens (and no token) wait...
    for headers in (BAD, {}):
        blocked = await api.client.get("/v1/me", headers=headers)
        assert blocked.status_code == 429, blocked.text
        assert error_of(blocked)["code"] == "too_many_failures"
        assert 1 <= int(blocked.headers["retry-after"]) <= 60
    # ...but a valid token is never refused by the failure limiter.
    for _ in range(3):
        got = await api.client.get("/v1/me", headers=ann)
        assert got.status_code == 200, got.text
    # Another member's valid token from the same address too, with a body.
    bob = api.world.auth("bob")
    put = await api.client.put("/v1/me/availability", headers=bob, json={"available": False})
    assert put.status_code == 200, put.text
    # Guessing still waits, and its failures keep counting.
    assert (await api.client.get("/v1/me", headers=BAD)).status_code == 429
    assert (await api.client.get("/v1/me", headers={**BAD, "Authorization": BAD[
        "Authorization"] + "x"})).status_code == 429


def _compose_http() -> dict:
    config = yaml.safe_load((REPO / "contrib/docker/teamfoned.yaml").read_text())
    return dict(config["http"])


def test_the_compose_config_declares_the_proxy_in_front() -> None:
    http = _compose_http()
    assert http.get("behind_proxy") is True
    assert set(http.get("proxy_addresses", ())) >= {"127.0.0.1"}


@pytest.fixture
async def compose_api(migrated_db_url: str) -> AsyncIterator[tuple[str, World]]:
    """The API with the compose config's http section (on a free port), reached through its proxy."""
    http = {k: v for k, v in _compose_http().items() if k != "port"}
    settings = api_settings(**http)
    engine = create_engine(migrated_db_url)
    try:
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        world = await seed(create_sessionmaker(engine), settings, clock.now)
        app = create_app(create_sessionmaker(engine), settings, clock=clock)
        async with serving(app, settings) as base_url:
            yield base_url, world
    finally:
        await engine.dispose()


async def test_behind_the_compose_proxy_one_clients_failures_do_not_block_another(
        compose_api: tuple[str, World]) -> None:
    base_url, world = compose_api
    # The proxy on this host connects from loopback and names each client in X-Forwarded-For
    # (documentation addresses: nothing is sent to them).
    guesser = {**BAD, "X-Forwarded-For": "203.0.113.7"}
    other = {**BAD, "X-Forwarded-For": "203.0.113.8"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for _ in range(11):
            await client.get("/v1/me", headers=guesser)
        assert (await client.get("/v1/me", headers=guesser)).status_code == 429
        # Another client behind the same proxy has its own count.
        assert (await client.get("/v1/me", headers=other)).status_code == 401
        valid = {**world.auth("ann"), "X-Forwarded-For": "203.0.113.7"}
        assert (await client.get("/v1/me", headers=valid)).status_code == 200

"""Tenant isolation matrix: every path, given another tenant's ids, answers exactly as for ids that do not exist."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select

from teamfoned.store.tables import api_tokens
from teamfoned.webhooks.admin import add_webhook
from tests.integration.test_api_bench import LiveApi, api_fixture  # noqa: F401

# A valid body per operation, so the answer is about the ids and not about the body.
BODIES = {
    ("patch", "/v1/admin/teams/{team_id}"): {"wrap_up": 5},
    ("put", "/v1/admin/teams/{team_id}/members/{member_id}"): {"priority": 1},
    ("patch", "/v1/admin/members/{member_id}"): {"name": "Mallory"},
    ("post", "/v1/admin/members/{member_id}/tokens"): {"label": "stolen"},
    ("put", "/v1/admin/teams/{team_id}/hours"): {"periods": [{"weekday": 0, "starts": "08:00",
                                                             "ends": "17:00"}]},
    ("post", "/v1/admin/teams/{team_id}/holidays"): {"date": "2030-12-25", "name": "Xmas"},
}


async def test_foreign_ids_are_404_like_missing_ones_on_every_path(api: LiveApi) -> None:
    world = api.world
    async with api.sessions() as session, session.begin():
        hank_token = await session.scalar(select(api_tokens.c.id).where(
            api_tokens.c.member_id == world.id("hank")))
        globex_hook, _ = await add_webhook(session, world.globex, "https://globex.example/hook",
                                           ["call.missed"])
    foreign = {"team_id": world.teams["ops"], "member_id": world.id("hank"),
               "token_id": hank_token, "number": "+31201234569",
               "call_id": world.calls["globex_call"], "webhook_id": globex_hook,
               "day": "2030-12-25"}
    missing = {"team_id": uuid.uuid4(), "member_id": uuid.uuid4(), "token_id": uuid.uuid4(),
               "number": "+31209999999", "call_id": uuid.uuid4(), "webhook_id": uuid.uuid4(),
               "day": "2030-12-25"}
    before = await api.snapshot()
    checked = 0
    for path, operations in api.app_openapi["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            body = BODIES.get((method, path))
            # Admin paths as acme's admin; team paths also as a plain member.
            for who in ("ann", "bob") if path.startswith("/v1/teams") else ("ann",):
                answers = []
                for ids in (foreign, missing):
                    url = path.format(**{k: v for k, v in ids.items() if "{" + k + "}" in path})
                    answers.append(await api.client.request(
                        method, url, headers=world.auth(who), json=body))
                got, reference = answers
                assert got.status_code == 404, (method, path, who, got.text)
                assert got.json() == reference.json(), (method, path, who)
                checked += 1
    assert checked >= 25
    assert await api.snapshot() == before


async def test_lists_and_views_show_only_the_callers_tenant(api: LiveApi) -> None:
    other = [api.world.people["gina"].name, api.world.people["hank"].name, "ops",
             str(api.world.globex), str(api.world.teams["ops"]), "+31201234569", "+31699999999"]
    for who in ("ann", "bob"):
        for path in ["/v1/me", "/v1/teams", f"/v1/teams/{api.world.teams['desk']}",
                     f"/v1/teams/{api.world.teams['desk']}/calls",
                     f"/v1/teams/{api.world.teams['desk']}/missed", "/v1/admin/webhooks",
                     "/v1/me/schedule", "/v1/admin/teams",
                     "/v1/admin/members", "/v1/admin/tokens", "/v1/export"]:
            done = await api.client.get(path, headers=api.world.auth(who))
            assert done.status_code in (200, 403), (path, done.text)
            text = json.dumps(done.json())
            for needle in other:
                assert needle not in text, (who, path, needle)

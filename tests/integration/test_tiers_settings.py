"""Tiers are set like other membership details and team settings (admin API, console, directory file); the store reads them per call."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import update

from teamfoned.cli import main as cli_main
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import availability, memberships
from teamfoned.store.waiting_repo import WaitingRepository
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401
from tests.integration.test_store_routing import NOW, engine, seed  # noqa: F401


async def test_the_api_sets_a_members_tier_and_the_teams_wait_and_refuses_bad_ones(api: LiveApi) -> None:
    ann, c, desk = api.world.auth("ann"), api.client, api.world.teams["desk"]
    erin = api.world.id("erin")
    shown = (await c.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert shown["next_tier_after"] is None  # the default: only when tier 1 has nobody
    assert {m["tier"] for m in shown["members"]} == {1}  # every membership starts at tier 1

    before = await api.snapshot()
    for bad in (0, 4, "2", True, None):
        done = await c.put(f"/v1/admin/teams/{desk}/members/{erin}", headers=ann,
                           json={"priority": 5, "tier": bad})
        assert done.status_code == 422, (bad, done.text)
        assert error_of(done)["fields"][0]["field"] == "tier"
    for bad in (0, 3601, "soon", True):
        done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={"next_tier_after": bad})
        assert done.status_code == 422, (bad, done.text)
        assert error_of(done)["fields"][0]["field"] == "next_tier_after"
    assert await api.snapshot() == before

    assert (await c.put(f"/v1/admin/teams/{desk}/members/{erin}", headers=ann,
                        json={"priority": 5, "tier": 2})).status_code == 204
    done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={"next_tier_after": 30})
    assert done.status_code == 200 and done.json()["next_tier_after"] == 30
    shown = (await c.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert {"member_id": str(erin), "priority": 5, "tier": 2} in shown["members"]

    export = (await c.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert team["next_tier_after"] == 30
    [mine] = [m for m in export["memberships"]
              if m["member_id"] == str(erin) and m["team_id"] == str(desk)]
    assert mine["tier"] == 2
    # A PUT without a tier puts the member back in tier 1 (it states the whole membership).
    assert (await c.put(f"/v1/admin/teams/{desk}/members/{erin}", headers=ann,
                        json={"priority": 5})).status_code == 204
    shown = (await c.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert {"member_id": str(erin), "priority": 5, "tier": 1} in shown["members"]
    # null: back to "only when tier 1 has nobody available".
    done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json={"next_tier_after": None})
    assert done.json()["next_tier_after"] is None

    schema = (await c.get("/openapi.json")).json()["components"]["schemas"]
    assert (schema["MembershipIn"]["properties"]["tier"]["minimum"],
            schema["MembershipIn"]["properties"]["tier"]["maximum"]) == (1, 3)
    assert "next_tier_after" in schema["TeamSettingsPatch"]["properties"]


def test_the_console_and_the_directory_file_set_tiers(tmp_path: Path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "database": {"url": f"sqlite+aiosqlite:///{db}"}}))
    directory = tmp_path / "directory.yaml"

    def write(members: list, **team: object) -> None:
        directory.write_text(yaml.safe_dump({"tenants": [{
            "name": "acme",
            "members": [{"name": "alice", "phone": "+31612345671"},
                        {"name": "bob", "phone": "+31612345672"}],
            "teams": [{"name": "desk", "members": members, **team}]}]}))

    write([{"name": "alice"}, {"name": "bob", "tier": 2}], next_tier_after=20)
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _tiers(db) == ({"alice": 1, "bob": 2}, 20)
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0  # in sync: no change
    assert _tiers(db) == ({"alice": 1, "bob": 2}, 20)

    # The console: a member's tier, kept when only the priority changes; the team's wait off.
    assert cli_main(["--config", str(config), "membership", "add", "--tenant", "acme",
                     "--team", "desk", "--tier", "3", "alice"]) == 0
    assert cli_main(["--config", str(config), "membership", "add", "--tenant", "acme",
                     "--team", "desk", "--priority", "7", "alice"]) == 0
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--next-tier-after", "0"]) == 0
    assert _tiers(db) == ({"alice": 3, "bob": 2}, None)
    capsys.readouterr()
    assert cli_main(["--config", str(config), "membership", "add", "--tenant", "acme",
                     "--team", "desk", "--tier", "4", "alice"]) != 0
    assert "tier" in capsys.readouterr().err
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--next-tier-after", "4000"]) != 0
    assert "next_tier_after" in capsys.readouterr().err
    assert _tiers(db) == ({"alice": 3, "bob": 2}, None)

    # A wrong tier in the file names its place and the key, and writes nothing.
    write([{"name": "alice", "tier": 0}, {"name": "bob", "tier": "two"}], next_tier_after=-1)
    assert cli_main(["--config", str(config), "import", str(directory)]) != 0
    err = capsys.readouterr().err
    assert "members[0].tier" in err and "members[1].tier" in err and "next_tier_after" in err
    assert _tiers(db) == ({"alice": 3, "bob": 2}, None)


def _tiers(db: Path) -> tuple[dict[str, int], int | None]:
    with sqlite3.connect(db) as conn:
        tiers = dict(conn.execute(
            "SELECT members.name, memberships.tier FROM memberships "
            "JOIN members ON members.id = memberships.member_id").fetchall())
        [(after,)] = conn.execute("SELECT next_tier_after FROM teams").fetchall()
    return tiers, after


async def test_candidates_carry_their_tier_first_tier_first_and_the_line_names_the_lowest(engine) -> None:  # noqa: F811
    s = await seed(engine)
    first, second, third = s.members
    async with engine.begin() as conn:
        for member, tier in ((first, 3), (second, 2), (third, 2)):
            await conn.execute(update(memberships).where(memberships.c.member_id == member)
                               .values(tier=tier))
    repo = RoutingRepository(engine)
    found = await repo.candidates(s.team_id, now=NOW)
    # Tier first, then priority: the store's order is the one the line leaves to callers ahead.
    assert [(c.member_id, c.tier) for c in found] == [(second, 2), (third, 2), (first, 3)]

    line = WaitingRepository(create_sessionmaker(engine))
    call_id = uuid.uuid4()
    view = await line.line_view(s.team_id, call_id, arrived_at=NOW, now=NOW)
    assert (view.available, view.first_tier) == (3, 2)
    # Members this call tried, or who are unavailable, do not hold the lowest tier.
    view = await line.line_view(s.team_id, call_id, arrived_at=NOW, now=NOW, exclude=[second])
    assert view.first_tier == 2
    async with engine.begin() as conn:
        await conn.execute(update(availability).where(availability.c.member_id == third)
                           .values(available=False, changed_at=datetime.now(UTC)))
    view = await line.line_view(s.team_id, call_id, arrived_at=NOW, now=NOW, exclude=[second])
    assert (view.available, view.first_tier) == (1, 3)
    view = await line.line_view(s.team_id, call_id, arrived_at=NOW, now=NOW,
                                exclude=[first, second])
    assert (view.available, view.first_tier) == (0, None)

"""Finding 12: a tenant never loses its last admin: not by demotion, not by erasure, not in a race.

Through the API (409, nothing written), the console (exit 2 with a clear message) and the
directory file (refused whole); with two admins either may step down, but two admins demoting
each other at the same moment cannot both succeed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from teamfoned.cli import main
from teamfoned.store.tables import members
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


async def _admins(api: LiveApi) -> set[str]:
    async with api.sessions() as session:
        rows = (await session.execute(select(members.c.name).where(
            members.c.tenant_id == api.world.acme, members.c.is_admin))).scalars()
        return set(rows)


def _refused_as_last_admin(answer: object) -> None:
    assert answer.status_code == 409, (answer.status_code, answer.text)  # type: ignore[attr-defined]
    error = error_of(answer)  # type: ignore[arg-type]
    assert error["code"] == "conflict" and "last admin" in error["message"], error


async def test_the_last_admin_cannot_step_down_or_be_erased(api: LiveApi) -> None:
    ann = api.world.auth("ann")
    ann_id = api.world.id("ann")
    before = await api.snapshot()
    _refused_as_last_admin(await api.client.patch(f"/v1/admin/members/{ann_id}", headers=ann,
                                                  json={"is_admin": False}))
    _refused_as_last_admin(await api.client.delete(f"/v1/admin/members/{ann_id}", headers=ann))
    _refused_as_last_admin(await api.client.delete("/v1/me", headers=ann))
    assert await api.snapshot() == before
    # A second admin: now either may step down, and the one left is the last again.
    bob_id = api.world.id("bob")
    done = await api.client.patch(f"/v1/admin/members/{bob_id}", headers=ann, json={"is_admin": True})
    assert done.status_code == 200 and done.json()["is_admin"] is True, done.text
    done = await api.client.patch(f"/v1/admin/members/{ann_id}", headers=ann, json={"is_admin": False})
    assert done.status_code == 200 and done.json()["is_admin"] is False, done.text
    bob = api.world.auth("bob")
    _refused_as_last_admin(await api.client.delete("/v1/me", headers=bob))
    _refused_as_last_admin(await api.client.patch(f"/v1/admin/members/{bob_id}", headers=bob,
                                                  json={"is_admin": False}))
    assert (await api.client.patch(f"/v1/admin/members/{ann_id}", headers=bob,
                                   json={"is_admin": True})).status_code == 200
    assert (await api.client.delete("/v1/me", headers=bob)).status_code == 204
    assert await _admins(api) == {"Ann Admin"}
    # Unchanged admin flag and other fields still pass for the last admin.
    done = await api.client.patch(f"/v1/admin/members/{ann_id}", headers=ann,
                                  json={"is_admin": True, "name": "Ann Again"})
    assert done.status_code == 200 and done.json()["name"] == "Ann Again", done.text


async def test_two_admins_demoting_each_other_at_once_leave_one(api: LiveApi) -> None:
    ids = {"ann": api.world.id("ann"), "bob": api.world.id("bob")}
    names = {"Ann Admin": "ann", "Bob Bakker": "bob"}
    admin = "ann"
    for _ in range(6):  # a few rounds, so the two requests really meet in the database
        other = "bob" if admin == "ann" else "ann"
        promoted = await api.client.patch(f"/v1/admin/members/{ids[other]}",
                                          headers=api.world.auth(admin), json={"is_admin": True})
        assert promoted.status_code == 200, promoted.text
        answers = await asyncio.gather(*(
            api.client.patch(f"/v1/admin/members/{ids[target]}", headers=api.world.auth(who),
                             json={"is_admin": False})
            for who, target in (("ann", "bob"), ("bob", "ann"))))
        statuses = sorted(a.status_code for a in answers)
        # Whoever goes first wins; the other change would leave no admin (or, a step late,
        # comes from someone who is no longer an admin).
        assert statuses[0] == 200 and statuses[1] in (403, 409), [(a.status_code, a.text)
                                                                    for a in answers]
        left = await _admins(api)
        assert len(left) == 1, left
        admin = names[left.pop()]


def _cli(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv])


def _config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "teamfoned.yaml"
    path.write_text(yaml.safe_dump({"ari": {"password": "pw"}, "database": {"url": url}}))
    return path


async def test_console_and_directory_file_keep_the_last_admin(
        api: LiveApi, migrated_db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, migrated_db_url)
    before = await api.snapshot()
    code = await asyncio.to_thread(_cli, config, "member", "remove", "--tenant", "acme", "Ann Admin")
    err = capsys.readouterr().err
    assert code == 2 and "last admin" in err, (code, err)
    assert await api.snapshot() == before
    # A directory file that keeps everyone but makes nobody an admin.
    world = {"tenants": [{"name": "acme", "members": [
        {"name": "Ann Admin", "phone": "+31612345671", "admin": False}]}]}
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump(world))
    code = await asyncio.to_thread(_cli, config, "import", str(directory))
    err = capsys.readouterr().err
    assert code == 2 and "admin" in err and "acme" in err, (code, err)
    assert await api.snapshot() == before
    # Handing the role over in one file works: the new admin comes before the old one goes.
    world["tenants"][0]["members"] = [{"name": "Zoe New", "phone": "+31612345679", "admin": True}]
    directory.write_text(yaml.safe_dump(world))
    code = await asyncio.to_thread(_cli, config, "import", str(directory))
    assert code == 0, capsys.readouterr().err
    assert await _admins(api) == {"Zoe New"}

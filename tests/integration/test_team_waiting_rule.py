"""The team's waiting rule (wait_when_none_available) is a setting like any other: API, console and directory file set it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from teamfoned.cli import main as cli_main
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


async def test_the_api_sets_the_waiting_rule_and_refuses_anything_but_a_boolean(api: LiveApi) -> None:
    ann, desk = api.world.auth("ann"), api.world.teams["desk"]
    shown = (await api.client.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert shown["wait_when_none_available"] is False  # the default: fall back at once

    before = await api.snapshot()
    for bad in (1, "yes", [True]):
        done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                      json={"wait_when_none_available": bad})
        assert done.status_code == 422, (bad, done.text)
        assert error_of(done)["fields"][0]["field"] == "wait_when_none_available"
    assert await api.snapshot() == before

    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                  json={"wait_when_none_available": True})
    assert done.status_code == 200 and done.json()["wait_when_none_available"] is True
    export = (await api.client.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert team["wait_when_none_available"] is True


def test_the_console_and_the_directory_file_set_it(tmp_path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "database": {"url": f"sqlite+aiosqlite:///{db}"}}))
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "wait_when_none_available": True}]}]}))
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _rule(db) is True
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--wait-when-none-available", "off"]) == 0
    assert _rule(db) is False
    capsys.readouterr()
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "wait_when_none_available": "sometimes"}]}]}))
    assert cli_main(["--config", str(config), "import", str(directory)]) != 0
    assert "wait_when_none_available" in capsys.readouterr().err
    assert _rule(db) is False


def _rule(db: Path) -> bool:
    with sqlite3.connect(db) as conn:
        [(value,)] = conn.execute("SELECT wait_when_none_available FROM teams").fetchall()
    return bool(value)


async def test_the_position_announcement_and_the_language_are_set_and_checked(api: LiveApi) -> None:
    ann, desk = api.world.auth("ann"), api.world.teams["desk"]
    shown = (await api.client.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert (shown["announce_position_every"], shown["language"]) == (None, "en")
    before = await api.snapshot()
    for field, bad in (("announce_position_every", 9), ("announce_position_every", 601),
                       ("announce_position_every", "often"), ("announce_position_every", True),
                       ("language", "de"), ("language", 7)):
        done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={field: bad})
        assert done.status_code == 422, (field, bad, done.text)
        assert error_of(done)["fields"][0]["field"] == field
    assert await api.snapshot() == before
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                  json={"announce_position_every": 30, "language": "nl"})
    assert done.status_code == 200
    assert (done.json()["announce_position_every"], done.json()["language"]) == (30, "nl")
    # null switches the announcement off again.
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                  json={"announce_position_every": None})
    assert done.json()["announce_position_every"] is None
    export = (await api.client.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert (team["announce_position_every"], team["language"]) == (None, "nl")


def test_the_console_and_the_directory_file_set_the_announcement(tmp_path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "database": {"url": f"sqlite+aiosqlite:///{db}"}}))
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "announce_position_every": 20, "language": "nl"}]}]}))
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _announcement(db) == (20, "nl")
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--announce-position-every", "0", "--language", "en"]) == 0
    assert _announcement(db) == (None, "en")
    capsys.readouterr()
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--announce-position-every", "5"]) == 2
    assert "announce_position_every" in capsys.readouterr().err
    assert _announcement(db) == (None, "en")


def _announcement(db: Path) -> tuple[int | None, str]:
    with sqlite3.connect(db) as conn:
        [(every, language)] = conn.execute(
            "SELECT announce_position_every, language FROM teams").fetchall()
    return every, language

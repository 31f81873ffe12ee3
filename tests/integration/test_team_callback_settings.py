"""The callback settings are set and checked like any other team setting: API, console, directory file, export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from teamfoned.cli import main as cli_main
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


async def test_the_api_sets_the_callback_and_refuses_bad_values(api: LiveApi) -> None:
    ann, desk = api.world.auth("ann"), api.world.teams["desk"]
    shown = (await api.client.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    # Off by default; two tries a minute apart once a key is set.
    assert (shown["callback_key"], shown["callback_attempts"], shown["callback_retry_after"]) == (
        None, 2, 60)
    before = await api.snapshot()
    for field, bad in (("callback_key", "55"), ("callback_key", "a"), ("callback_key", 5),
                       ("callback_attempts", 0), ("callback_attempts", 6),
                       ("callback_attempts", True), ("callback_retry_after", 4),
                       ("callback_retry_after", 3601), ("callback_retry_after", "soon")):
        done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={field: bad})
        assert done.status_code == 422, (field, bad, done.text)
        assert error_of(done)["fields"][0]["field"] == field
    assert await api.snapshot() == before
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={
        "callback_key": "#", "callback_attempts": 3, "callback_retry_after": 120})
    assert done.status_code == 200, done.text
    assert (done.json()["callback_key"], done.json()["callback_attempts"],
            done.json()["callback_retry_after"]) == ("#", 3, 120)
    # null switches the offer off again; the tries stay.
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={"callback_key": None})
    assert (done.json()["callback_key"], done.json()["callback_attempts"]) == (None, 3)
    export = (await api.client.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert (team["callback_key"], team["callback_attempts"], team["callback_retry_after"]) == (
        None, 3, 120)


def test_the_console_and_the_directory_file_set_the_callback(tmp_path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "database": {"url": f"sqlite+aiosqlite:///{db}"}}))
    directory = tmp_path / "directory.yaml"
    # An unquoted key reads as a number in YAML: the administrator meant the key.
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "callback_key": 5, "callback_attempts": 4, "callback_retry_after": 30}]}]}))
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _callback(db) == ("5", 4, 30)
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--callback-key", "", "--callback-attempts", "1"]) == 0
    assert _callback(db) == (None, 1, 30)
    capsys.readouterr()
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--callback-retry-after", "2"]) == 2
    assert "callback_retry_after" in capsys.readouterr().err
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "callback_key": "x"}]}]}))
    assert cli_main(["--config", str(config), "import", str(directory)]) != 0
    assert "callback_key" in capsys.readouterr().err
    assert _callback(db) == (None, 1, 30)


def _callback(db: Path) -> tuple[str | None, int, int]:
    with sqlite3.connect(db) as conn:
        [row] = conn.execute(
            "SELECT callback_key, callback_attempts, callback_retry_after FROM teams").fetchall()
    return row

"""A team's service level is a setting like any other: API, console and directory file set it; statistics and export show it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml

from teamfoned.cli import main as cli_main
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401


async def test_the_service_level_is_set_and_used_by_the_statistics(api: LiveApi) -> None:
    ann, desk = api.world.auth("ann"), api.world.teams["desk"]
    # The desk team's finished calls: 5, answered after 10 s and 4 s.
    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann)).json()
    assert (stats["service_level_seconds"], stats["service_level"]) == (20, 0.4)

    before = await api.snapshot()
    for bad in (0, 3601, "soon", True):
        done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                      json={"service_level_seconds": bad})
        assert done.status_code == 422, (bad, done.text)
        assert error_of(done)["fields"][0]["field"] == "service_level_seconds"
    assert await api.snapshot() == before

    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                  json={"service_level_seconds": 5})
    assert done.status_code == 200 and done.json()["service_level_seconds"] == 5
    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann)).json()
    assert (stats["service_level_seconds"], stats["service_level"]) == (5, 0.2)
    export = (await api.client.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert team["service_level_seconds"] == 5


def test_the_console_and_the_directory_file_set_it(tmp_path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "database": {"url": f"sqlite+aiosqlite:///{db}"}}))
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "service_level_seconds": 30}]}]}))
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _service_level(db) == 30
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--service-level", "45"]) == 0
    assert _service_level(db) == 45
    capsys.readouterr()
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--service-level", "0"]) == 2
    assert "service_level_seconds" in capsys.readouterr().err
    assert _service_level(db) == 45


def _service_level(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        [(seconds,)] = conn.execute("SELECT service_level_seconds FROM teams").fetchall()
    return int(seconds)

"""What waiting callers hear is a team setting like any other; the music class is the sysadmin's choice; the expected wait's history."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.cli import main as cli_main
from teamfoned.routing.expected_wait import SAMPLES, WINDOW, expected_wait_minutes
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tables import calls, waiting_entries
from teamfoned.store.waiting_repo import WaitingRepository
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401
from tests.integration.test_store_routing import engine, seed  # noqa: F401

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def test_the_api_sets_the_waiting_sound_and_refuses_a_class_the_sysadmin_did_not_allow(
        api: LiveApi) -> None:
    ann, desk = api.world.auth("ann"), api.world.teams["desk"]
    shown = (await api.client.get(f"/v1/admin/teams/{desk}", headers=ann)).json()
    assert (shown["waiting_sound"], shown["moh_class"], shown["greeting"],
            shown["announce_expected_wait"]) == ("ringing", None, None, False)
    before = await api.snapshot()
    for field, bad in (("waiting_sound", "jazz"), ("waiting_sound", 1),
                       ("moh_class", "the-sysadmins-own"), ("moh_class", 3),
                       ("greeting", "../../etc/passwd"), ("greeting", "welcome.wav"),
                       ("announce_expected_wait", "yes")):
        done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={field: bad})
        assert done.status_code == 422, (field, bad, done.text)
        assert error_of(done)["fields"][0]["field"] == field
    assert await api.snapshot() == before
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann, json={
        "waiting_sound": "music", "moh_class": "default", "greeting": "welcome",
        "announce_expected_wait": True})
    assert done.status_code == 200, done.text
    assert (done.json()["waiting_sound"], done.json()["moh_class"], done.json()["greeting"],
            done.json()["announce_expected_wait"]) == ("music", "default", "welcome", True)
    # null: the first allowed class, and no greeting.
    done = await api.client.patch(f"/v1/admin/teams/{desk}", headers=ann,
                                  json={"moh_class": None, "greeting": None})
    assert (done.json()["moh_class"], done.json()["greeting"]) == (None, None)
    export = (await api.client.get("/v1/export", headers=ann)).json()
    [team] = [t for t in export["teams"] if t["name"] == "desk"]
    assert (team["waiting_sound"], team["announce_expected_wait"]) == ("music", True)


def test_the_console_and_the_directory_file_set_them_within_the_sysadmins_classes(
        tmp_path, capsys) -> None:
    db = tmp_path / "teamfoned.db"
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({
        "ari": {"password": "x"}, "database": {"url": f"sqlite+aiosqlite:///{db}"},
        "telephony": {"moh_classes": ["default", "calm"]}}))
    directory = tmp_path / "directory.yaml"
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "waiting_sound": "music", "moh_class": "calm", "greeting": "welcome",
         "announce_expected_wait": True}]}]}))
    assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    assert cli_main(["--config", str(config), "import", str(directory)]) == 0
    assert _sounds(db) == ("music", "calm", "welcome", 1)
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--waiting-sound", "ringing", "--moh-class", "", "--greeting", "",
                     "--announce-expected-wait", "off"]) == 0
    assert _sounds(db) == ("ringing", None, None, 0)
    capsys.readouterr()
    assert cli_main(["--config", str(config), "team", "set", "--tenant", "acme", "desk",
                     "--moh-class", "jazz"]) == 2
    err = capsys.readouterr().err
    assert "moh_class" in err and "default, calm" in err
    directory.write_text(yaml.safe_dump({"tenants": [{"name": "acme", "teams": [
        {"name": "desk", "greeting": "sub/dir"}]}]}))
    assert cli_main(["--config", str(config), "import", str(directory)]) != 0
    assert "greeting" in capsys.readouterr().err
    assert _sounds(db) == ("ringing", None, None, 0)


def test_an_unknown_music_class_in_the_configuration_names_the_key(tmp_path, capsys) -> None:
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"},
                                      "telephony": {"moh_classes": ["default", "no/such"]}}))
    assert cli_main(["--config", str(config), "check-config"]) != 0
    assert "telephony.moh_classes" in capsys.readouterr().err


def _sounds(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        [row] = conn.execute("SELECT waiting_sound, moh_class, greeting, announce_expected_wait "
                             "FROM teams").fetchall()
    return row


async def test_the_expected_wait_reads_the_last_answered_waits_of_the_hour(
        engine: AsyncEngine) -> None:  # noqa: F811
    s = await seed(engine, 0)
    line = WaitingRepository(create_sessionmaker(engine))
    since = NOW - WINDOW

    async def waited(seconds: float, *, left_ago: float, answered: bool = True) -> None:
        call_id, left = uuid.uuid4(), NOW - timedelta(seconds=left_ago)
        joined = left - timedelta(seconds=seconds)
        async with engine.begin() as conn:
            await conn.execute(insert(calls).values(
                id=call_id, tenant_id=s.tenant_id, team_id=s.team_id, node="n1",
                started_at=joined, answered_at=left if answered else None))
            await conn.execute(insert(waiting_entries).values(
                call_id=call_id, tenant_id=s.tenant_id, team_id=s.team_id, node="n1",
                arrived_at=joined, joined_at=joined, left_at=left))

    for n in range(4):
        await waited(120, left_ago=60 * (n + 1))
    await waited(600, left_ago=30, answered=False)  # gave up: no measure of the line
    await waited(900, left_ago=2 * 3600)  # too long ago
    waits = await line.recent_line_waits(s.team_id, since=since, limit=SAMPLES)
    assert waits == [120.0] * 4 and expected_wait_minutes(waits) is None
    await waited(300, left_ago=10)
    waits = await line.recent_line_waits(s.team_id, since=since, limit=SAMPLES)
    assert waits == [300.0, 120.0, 120.0, 120.0, 120.0]  # the latest first
    assert expected_wait_minutes(waits) == 2
    assert await line.recent_line_waits(s.team_id, since=since, limit=2) == [300.0, 120.0]

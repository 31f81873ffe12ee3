"""The console script for opening hours, holidays, member schedules and the team's newer settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from teamfoned.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "teamfoned.yaml"
    path.write_text(f"ari: {{password: pw}}\ndatabase: {{url: 'sqlite+aiosqlite:///{tmp_path}/t.db'}}\n")
    assert main(["--config", str(path), "db", "upgrade"]) == 0
    assert main(["--config", str(path), "tenant", "add", "acme"]) == 0
    assert main(["--config", str(path), "team", "add", "--tenant", "acme", "desk"]) == 0
    assert main(["--config", str(path), "member", "add", "--tenant", "acme", "--name", "Alice",
                 "--phone", "+31612345678"]) == 0
    return path


def cli(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv])


def team_row(config: Path) -> tuple:
    db = sqlite3.connect(config.parent / "t.db")
    try:
        return db.execute("SELECT timezone, closed_kind, closed_target, auto_unavailable_after, "
                          "confirm_recording FROM teams").fetchone()
    finally:
        db.close()


def test_team_settings_set_and_cleared(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--timezone", "Europe/Amsterdam",
               "--closed", "number", "--closed-target", "+31201234567",
               "--auto-unavailable-after", "3", "--confirm-recording", "desk-call") == 0
    assert team_row(config) == ("Europe/Amsterdam", "number", "+31201234567", 3,
                                "desk-call")
    # A new kind drops the old target; 0 and '' switch off.
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--closed", "announce",
               "--auto-unavailable-after", "0", "--confirm-recording", "") == 0
    assert team_row(config) == ("Europe/Amsterdam", "announce", None, None, None)
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--closed", "dialplan") == 0
    assert team_row(config)[1:3] == (None, None)  # the shipped teamfoned-closed context
    assert cli(config, "team", "add", "--tenant", "acme", "night", "--timezone", "Asia/Tokyo",
               "--closed", "team", "--closed-target", "desk") == 0
    capsys.readouterr()

    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--timezone", "Mars/Base",
               "--auto-unavailable-after", "500", "--closed", "number") == 2
    err = capsys.readouterr().err
    assert "timezone: 'Mars/Base' is not an IANA time zone name" in err
    assert "auto_unavailable_after: must be unanswered calls in a row from 1 to 100" in err
    assert "closed: None is not a phone number" in err
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--closed-target", "x") == 2
    assert "closed: a target needs a kind" in capsys.readouterr().err
    assert team_row(config)[0] == "Europe/Amsterdam"


def test_hours_set_show_and_always_open(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--timezone",
               "Europe/Amsterdam") == 0
    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "desk",
               "mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-12:00") == 0
    capsys.readouterr()
    assert cli(config, "hours", "show", "--tenant", "acme", "--team", "desk") == 0
    assert capsys.readouterr().out == ("mon-fri 08:00-12:00,13:00-17:00\nsat 10:00-12:00\n"
                                       "time zone: Europe/Amsterdam\n")

    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "desk",
               "mon-fry 08:00-17:00", "sun 18:00-09:00") == 2
    err = capsys.readouterr().err
    assert "'fry' is not a day" in err and "18:00-09:00 ends before it starts" in err
    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "desk",
               "mon-fri 08:00-17:00", "wed 16:00-18:00") == 2
    assert "wed 08:00-17:00 overlaps wed 16:00-18:00" in capsys.readouterr().err
    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "desk") == 2
    assert "--always-open" in capsys.readouterr().err
    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "nope", "mon 08:00-09:00") == 2
    assert "no team named 'nope'" in capsys.readouterr().err
    # Refused changes left the hours as they were.
    assert cli(config, "hours", "show", "--tenant", "acme", "--team", "desk") == 0
    assert capsys.readouterr().out.startswith("mon-fri 08:00-12:00,13:00-17:00\n")

    assert cli(config, "hours", "set", "--tenant", "acme", "--team", "desk", "--always-open") == 0
    assert cli(config, "hours", "show", "--tenant", "acme", "--team", "desk") == 0
    assert capsys.readouterr().out == "always open\ntime zone: Europe/Amsterdam\n"


def test_holidays_add_rename_list_remove(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "holiday", "add", "--tenant", "acme", "--team", "desk",
               "2030-12-25", "2030-12-26", "--name", "Christmas") == 0
    assert cli(config, "holiday", "add", "--tenant", "acme", "--team", "desk", "2030-12-26",
               "--name", "Boxing Day") == 0
    assert cli(config, "holiday", "add", "--tenant", "acme", "--team", "desk", "2031-01-01") == 0
    capsys.readouterr()
    assert cli(config, "holiday", "list", "--tenant", "acme", "--team", "desk") == 0
    assert capsys.readouterr().out == ("2030-12-25\tChristmas\n2030-12-26\tBoxing Day\n"
                                       "2031-01-01\t\n")
    assert cli(config, "holiday", "remove", "--tenant", "acme", "--team", "desk", "2030-12-26") == 0
    assert cli(config, "holiday", "remove", "--tenant", "acme", "--team", "desk", "2030-12-27") == 2
    assert "2030-12-27 is not a holiday of team 'desk'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # argparse refuses a malformed date itself
        cli(config, "holiday", "add", "--tenant", "acme", "--team", "desk", "2030-02-30")
    assert info.value.code == 2 and "'2030-02-30' is not a date" in capsys.readouterr().err
    assert cli(config, "holiday", "list", "--tenant", "acme", "--team", "desk") == 0
    assert capsys.readouterr().out == "2030-12-25\tChristmas\n2031-01-01\t\n"


def test_member_schedule_set_show_clear(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "schedule", "set", "--tenant", "acme", "Alice", "mon-fri 08:00-17:00",
               "sat 09:00-12:00", "--timezone", "Europe/Amsterdam") == 0
    capsys.readouterr()
    assert cli(config, "schedule", "show", "--tenant", "acme", "Alice") == 0
    assert capsys.readouterr().out == ("mon-fri 08:00-17:00\nsat 09:00-12:00\n"
                                       "time zone: Europe/Amsterdam\n")
    assert cli(config, "schedule", "set", "--tenant", "acme", "Alice", "mon 08:00-17:00") == 2
    assert "a schedule needs a time zone" in capsys.readouterr().err
    assert cli(config, "schedule", "set", "--tenant", "acme", "Alice", "mon 08:00-17:00",
               "--timezone", "Europe/Amsterdm") == 2
    assert "'Europe/Amsterdm' is not an IANA time zone name" in capsys.readouterr().err
    assert cli(config, "schedule", "set", "--tenant", "acme", "Bob", "mon 08:00-17:00",
               "--timezone", "UTC") == 2
    assert "no member named 'Bob'" in capsys.readouterr().err
    assert cli(config, "schedule", "set", "--tenant", "acme", "Alice", "--clear") == 0
    assert cli(config, "schedule", "show", "--tenant", "acme", "Alice") == 0
    assert capsys.readouterr().out == "no schedule\n"

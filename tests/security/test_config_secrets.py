"""Finding 10: check-config never echoes a secret, warns on readable secret files, refuses plain ARI off loopback; SQLite file 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

from teamfoned.cli import main as cli_main

SECRET_NUMBER = 98765432109876


def _config(tmp_path: Path, body: dict) -> Path:
    path = tmp_path / "teamfoned.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def test_a_secret_of_the_wrong_type_is_named_but_never_echoed(tmp_path, capsys) -> None:
    config = _config(tmp_path, {"ari": {"password": SECRET_NUMBER},
                                "database": {"url": 12345678901234567}})
    assert cli_main(["check-config", str(config)]) == 2
    out = capsys.readouterr()
    report = out.out + out.err
    assert "ari.password:" in report and "database.url:" in report
    assert str(SECRET_NUMBER) not in report
    assert "12345678901234567" not in report


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_secret_file_others_can_read_is_warned_about(tmp_path, capsys, mode) -> None:
    secret = tmp_path / "ari-password"
    secret.write_text("s3cret\n")
    secret.chmod(mode)
    config = _config(tmp_path, {"ari": {"password_file": str(secret)}})
    assert cli_main(["check-config", str(config)]) == 0  # a warning, not a refusal
    out = capsys.readouterr()
    [line] = [line for line in (out.out + out.err).splitlines() if "ari.password_file" in line]
    assert "readable by" in line and "chmod 600" in line
    assert "s3cret" not in out.out + out.err


def test_a_private_secret_file_gets_no_warning(tmp_path, capsys) -> None:
    secret = tmp_path / "ari-password"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    config = _config(tmp_path, {"ari": {"password_file": str(secret)}})
    assert cli_main(["check-config", str(config)]) == 0
    out = capsys.readouterr()
    assert "warning" not in (out.out + out.err).lower()


def test_plain_http_ari_to_another_host_is_refused_unless_allowed(tmp_path, capsys) -> None:
    config = _config(tmp_path, {"ari": {"url": "http://192.0.2.10:8088", "password": "x"}})
    assert cli_main(["check-config", str(config)]) == 2
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if line.strip().startswith("ari.url:")]
    assert "not loopback" in line and "allow_plain_remote" in line

    allowed = _config(tmp_path, {"ari": {"url": "http://192.0.2.10:8088", "password": "x",
                                         "allow_plain_remote": True}})
    assert cli_main(["check-config", str(allowed)]) == 0
    tls = _config(tmp_path, {"ari": {"url": "https://pbx.example:8089", "password": "x"}})
    assert cli_main(["check-config", str(tls)]) == 0


def test_db_upgrade_creates_the_sqlite_file_private(tmp_path, capsys) -> None:
    db = tmp_path / "state" / "teamfoned.db"
    db.parent.mkdir()
    config = _config(tmp_path, {"ari": {"password": "x"},
                                "database": {"url": f"sqlite+aiosqlite:///{db}"}})
    old = os.umask(0o022)  # the usual umask: files 0644 unless created otherwise
    try:
        assert cli_main(["--config", str(config), "db", "upgrade"]) == 0
    finally:
        os.umask(old)
    capsys.readouterr()
    mode = stat.S_IMODE(db.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)

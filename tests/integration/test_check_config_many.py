"""`teamfoned check-config` on a file with many mistakes names every one, by key and reason, exits non-zero, prints no secret."""

import pytest
import yaml

from teamfoned.cli import main as cli_main

SECRET = "s3cret-ari-password"


def test_every_mistake_is_named(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TFD_MISSING_DB_URL", raising=False)
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({
        "ari": {"url": "ftp://pbx", "password": SECRET, "colour": "blue"},
        "database": {"url_env": "TFD_MISSING_DB_URL"},
        "routing": {"strategy": "loudest_first", "ring_time": 2},
        "http": {"listen": "0.0.0.0"},
        "logging": {"level": "chatty"},
        "shutdown": {"drain_limit": -1},
        "housekeeping": {"purge_every_hours": 0},
    }))
    assert cli_main(["check-config", str(config)]) == 2
    out = capsys.readouterr()
    report = out.err
    expected = {
        "ari.url": "not an http(s)://host:port URL",
        "ari.colour": "unknown key",
        "database.url_env": "TFD_MISSING_DB_URL is not set",
        "routing.strategy": "unknown strategy 'loudest_first'",
        "routing.ring_time": "greater than or equal to 5",
        "http.behind_proxy": "not a loopback address",
        "logging.level": "'debug', 'info', 'warning' or 'error'",
        "shutdown.drain_limit": "greater than or equal to 0",
        "housekeeping.purge_every_hours": "greater than 0",
    }
    for key, reason in expected.items():
        [line] = [line for line in report.splitlines() if line.strip().startswith(f"{key}:")]
        assert reason in line, line
    assert f"{len(expected)} problem(s)" in report
    assert SECRET not in out.out + out.err


@pytest.mark.parametrize("source", ["file", "env"])
def test_secrets_from_a_file_or_the_environment_are_never_printed(tmp_path, capsys, monkeypatch, source):
    ari = {"password_file": str(tmp_path / "ari-password")} if source == "file" else {"password_env": "TFD_ARI"}
    (tmp_path / "ari-password").write_text(SECRET + "\n")
    monkeypatch.setenv("TFD_ARI", SECRET)
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": ari}))
    assert cli_main(["check-config", str(config)]) == 0
    out = capsys.readouterr()
    assert "OK" in out.out and SECRET not in out.out + out.err

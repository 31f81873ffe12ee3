"""The console script end to end on a SQLite file: clear errors (exit 2), nothing written on refusal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from teamfoned.cli import main


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "teamfoned.yaml"
    path.write_text(f"ari: {{password: pw}}\ndatabase: {{url: 'sqlite+aiosqlite:///{tmp_path}/t.db'}}\n"
                    "routing: {strategy: linear}\n")
    return path


def cli(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv])


def test_admin_commands(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "db", "upgrade") == 0
    assert cli(config, "tenant", "add", "acme") == 0
    assert cli(config, "team", "add", "--tenant", "acme", "desk", "--ring-time", "15") == 0
    assert cli(config, "number", "add", "--tenant", "acme", "--team", "desk", "+31201234567") == 0
    assert cli(config, "member", "add", "--tenant", "acme", "--name", "Alice",
               "--phone", "+31 6 12345678") == 0
    assert cli(config, "membership", "add", "--tenant", "acme", "--team", "desk", "Alice",
               "--priority", "3") == 0
    assert cli(config, "availability", "set", "--tenant", "acme", "Alice", "on",
               "--until", "2030-01-01T17:00:00Z") == 0
    assert cli(config, "team", "set", "--tenant", "acme", "desk", "--strategy", "round_robin") == 0
    capsys.readouterr()
    assert cli(config, "team", "list", "--tenant", "acme") == 0
    out = capsys.readouterr().out
    assert "\tdesk\tround_robin\t15\t" in out and "+31201234567" in out
    assert cli(config, "member", "list", "--tenant", "acme") == 0
    assert "Alice\te164\t+31612345678\t\tavailable\t2030-01-01 17:00:00+00:00" in (
        capsys.readouterr().out)
    assert cli(config, "membership", "remove", "--tenant", "acme", "--team", "desk", "Alice") == 0
    assert cli(config, "number", "remove", "--tenant", "acme", "+31201234567") == 0
    assert cli(config, "member", "remove", "--tenant", "acme", "Alice") == 0


def test_user_mistakes_exit_2_without_writing(config: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(config, "db", "upgrade") == 0
    assert cli(config, "tenant", "add", "acme") == 0
    capsys.readouterr()
    assert cli(config, "member", "add", "--tenant", "acme", "--name", "Eve",
               "--phone", "+319001234567") == 2
    assert "premium rate" in capsys.readouterr().err
    assert cli(config, "member", "add", "--tenant", "acme", "--name", "Eve",
               "--phone", "eve&PJSIP/x") == 2
    assert cli(config, "team", "add", "--tenant", "acme", "x", "--strategy", "foo") == 2
    assert "unknown strategy 'foo'" in capsys.readouterr().err
    assert cli(config, "team", "add", "--tenant", "nobody", "x") == 2
    assert "no tenant named 'nobody'" in capsys.readouterr().err
    assert cli(config, "member", "list", "--tenant", "acme") == 0
    assert capsys.readouterr().out == ""


def test_check_config_and_import_via_the_console_script(config: Path, tmp_path: Path) -> None:
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "teamfoned.cli", *argv],
                              capture_output=True, text=True, timeout=60)

    ok = run("check-config", str(config))
    assert (ok.returncode, ok.stdout.strip()) == (0, f"{config}: OK")
    bad = tmp_path / "bad.yaml"
    bad.write_text("ari: {password: pw}\nrouting: {strategy: foo}\nhttp: {port: 0}\n")
    failed = run("check-config", str(bad))
    assert failed.returncode == 2
    assert "routing.strategy: unknown strategy 'foo'" in failed.stderr
    assert "http.port:" in failed.stderr and "Traceback" not in failed.stderr

    directory = tmp_path / "directory.yaml"
    directory.write_text(
        "tenants:\n- name: acme\n  members:\n  - {name: Alice, phone: '+31612345678'}\n"
        "  teams:\n  - name: desk\n    numbers: ['+31201234567']\n    members: [Alice]\n")
    assert run("--config", str(config), "db", "upgrade").returncode == 0
    first = run("--config", str(config), "import", str(directory))
    assert first.returncode == 0 and "tenant acme: created" in first.stdout
    second = run("import", str(directory), "--config", str(config))
    assert (second.returncode, second.stdout.strip()) == (0, "no changes")

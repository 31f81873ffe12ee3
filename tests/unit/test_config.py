"""Settings: defaults are safe, every mistake is reported at once with its key, secrets never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from teamfoned.config import ConfigError, load_settings, settings_from_dict

MINIMAL = {"ari": {"password": "s3cret-ari"}}


def problems_of(raw: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(raw)
    return info.value.problems


def test_defaults() -> None:
    s = settings_from_dict(MINIMAL)
    assert s.ari.url == "http://127.0.0.1:8088"
    assert s.ari.app == "teamfoned"
    assert s.ari.password.get_secret_value() == "s3cret-ari"
    assert s.database.url == "sqlite+aiosqlite:////var/lib/teamfoned/teamfoned.db"
    assert s.telephony.trunk_dial_template == "PJSIP/{number}@trunk"
    assert s.telephony.allowed_countries == ("NL",)
    assert s.routing.strategy == "ring_all"
    assert s.http.listen == "127.0.0.1"
    assert s.logging.format == "auto"
    assert s.node


def test_settings_are_frozen() -> None:
    s = settings_from_dict(MINIMAL)
    with pytest.raises(Exception):
        s.node = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("raw", "expected"), [
    ({"routing": {"strategy": "foo"}}, "routing.strategy: unknown strategy 'foo' (choose from"),
    ({"routing": {"ring_time": 1}}, "routing.ring_time:"),
    ({"ari": {"url": "ftp://x"}}, "ari.url:"),
    ({"database": {"url": "postgresql://u@h/db"}}, "database.url: driver 'postgresql'"),
    ({"telephony": {"trunk_dial_template": "PJSIP/trunk"}}, "telephony.trunk_dial_template:"),
    ({"telephony": {"trunk_dial_template": "PJSIP/{number},30"}},
     "telephony.trunk_dial_template:"),
    ({"telephony": {"allowed_countries": ["NL", "XX"]}},
     "telephony.allowed_countries: unknown country code(s): XX"),
    ({"telephony": {"caller_id_mode": "x"}}, "telephony.caller_id_mode:"),
    ({"http": {"port": 70000}}, "http.port:"),
    ({"http": {"listen": "everywhere"}}, "http.listen: 'everywhere' is not an IP address"),
    ({"logging": {"format": "xml"}}, "logging.format:"),
    ({"node": "bad node"}, "node:"),
    ({"colour": "blue"}, "colour: unknown key"),
    ({"ari": {"pasword": "x"}}, "ari.pasword: unknown key"),
])
def test_each_error_names_its_key(raw: dict, expected: str) -> None:
    merged = {**MINIMAL, **raw}
    if "ari" in raw:
        merged["ari"] = {**MINIMAL["ari"], **raw["ari"]}
    found = problems_of(merged)
    assert any(p.startswith(expected) for p in found), found


def test_several_mistakes_are_reported_together() -> None:
    found = problems_of({
        "ari": {},
        "routing": {"strategy": "foo", "wrap_up": -1},
        "http": {"port": "eighty"},
        "logging": {"level": "loud"},
        "extra": 1,
    })
    keys = [p.split(":")[0] for p in found]
    assert set(keys) == {"ari.password", "routing.strategy", "routing.wrap_up", "http.port",
                         "logging.level", "extra"}, found


def test_secret_from_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "ari.secret"
    secret.write_text("from-file\n")
    monkeypatch.setenv("TEAMFONED_DB_URL", "postgresql+psycopg://tf:dbpw@db/teamfoned")
    s = settings_from_dict({"ari": {"password_file": str(secret)},
                            "database": {"url_env": "TEAMFONED_DB_URL"}})
    assert s.ari.password.get_secret_value() == "from-file"
    assert s.database.url == "postgresql+psycopg://tf:dbpw@db/teamfoned"


def test_secret_source_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    found = problems_of({
        "ari": {"password": "x", "password_env": "Y"},
        "database": {"url_file": str(tmp_path / "missing")},
    })
    assert any(p.startswith("ari.password: give only one of") for p in found)
    assert any(p.startswith("database.url_file: cannot read") for p in found)
    found = problems_of({"ari": {"password_env": "NOPE_NOT_SET"}})
    assert found == ["ari.password_env: environment variable NOPE_NOT_SET is not set"]


def test_secrets_never_printed() -> None:
    s = settings_from_dict({"ari": {"password": "hunter2-ari"},
                            "database": {"url": "postgresql+psycopg://tf:hunter2-db@db/x"}})
    for text in (repr(s), str(s), repr(s.ari), repr(s.database), str(s.database)):
        assert "hunter2" not in text, text
    assert "***" in repr(s.database)


def test_load_settings_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "teamfoned.yaml"
    path.write_text("ari:\n  password: pw\nrouting:\n  strategy: linear\nnode: pbx-1\n")
    s = load_settings(path)
    assert (s.routing.strategy, s.node) == ("linear", "pbx-1")


def test_bad_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("ari: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_settings(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml")
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_settings(path)


def test_agi_is_off_unless_a_port_is_given_and_stays_on_loopback() -> None:
    assert not settings_from_dict(MINIMAL).agi.enabled
    agi = settings_from_dict({**MINIMAL, "agi": {"port": 4573}}).agi
    assert agi.enabled and agi.listen == "127.0.0.1" and agi.claim_margin == 10
    [problem] = problems_of({**MINIMAL, "agi": {"port": 4573, "listen": "192.0.2.1"}})
    assert problem.startswith("agi.listen") and "loopback" in problem
    remote = settings_from_dict({**MINIMAL, "agi": {"port": 4573, "listen": "192.0.2.1",
                                                    "allow_remote": True}})
    assert remote.agi.listen == "192.0.2.1"
    [problem] = problems_of({**MINIMAL, "agi": {"port": 0}})
    assert problem.startswith("agi.port")


def test_availability_line_numbers_are_stored_in_one_form_and_refused_by_key() -> None:
    line = settings_from_dict({**MINIMAL, "availability_line": {"numbers": ["0031 20 555 0300"]}})
    assert line.availability_line.numbers == ("+31205550300",)
    [problem] = problems_of({**MINIMAL, "availability_line": {"numbers": ["020 555 0300"]}})
    assert problem.startswith("availability_line.numbers")

"""docker-compose.yml and the Dockerfile are not run here (no container engine): every path they name must exist, the YAML must parse."""

import re
from pathlib import Path

import yaml

from teamfoned.config import load_settings

REPO = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_parses_and_has_the_three_services():
    services = compose()["services"]
    assert set(services) == {"postgres", "asterisk", "teamfoned"}
    assert services["teamfoned"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_mounted_file_and_build_path_exists():
    doc = compose()
    for name, service in doc["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
        build = service.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file()
    # Every shipped Asterisk file is mounted: the container runs asterisk-config/ as the tests do.
    mounted = {Path(v.split(":")[0]).name for v in doc["services"]["asterisk"]["volumes"]}
    shipped = {p.name for p in (REPO / "asterisk-config").glob("*.conf")}
    assert shipped <= mounted


def test_every_file_the_dockerfile_copies_exists():
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY\s+(.+)\s+\S+$", line)
        if match:
            for source in match.group(1).split():
                assert (REPO / source).exists(), f"Dockerfile: {source} does not exist"


def test_the_containers_config_is_valid(monkeypatch):
    monkeypatch.setenv("TEAMFONED_ARI_PASSWORD", "x")
    monkeypatch.setenv("TEAMFONED_DATABASE_URL", compose()["services"]["teamfoned"]["environment"][
        "TEAMFONED_DATABASE_URL"])
    settings = load_settings(REPO / "contrib/docker/teamfoned.yaml")
    assert settings.database.url.startswith("postgresql+psycopg://")


def test_the_systemd_unit_is_a_hardened_notify_service():
    unit = (REPO / "contrib/systemd/teamfoned.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "NoNewPrivileges=yes", "ProtectSystem=strict",
                 "StateDirectory=teamfoned", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert line in unit

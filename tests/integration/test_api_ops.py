"""Operations over real HTTP: health, readiness, metrics, the OpenAPI document, the access log, TLS; tokens never leak."""

from __future__ import annotations

import io
import json
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import structlog
from sqlalchemy import select

from teamfoned.cli import main as cli_main
from teamfoned.config import ConfigError, settings_from_dict
from teamfoned.logs import configure_logging
from teamfoned.store.tables import Base
from tests.integration.test_api_bench import (  # noqa: F401
    LiveApi,
    api_fixture,
    api_settings,
    live,
    png_bytes,
)


@dataclass
class DaemonStatus:
    ari_connected: bool


async def test_health_and_readiness(migrated_db_url: str) -> None:
    status = DaemonStatus(ari_connected=False)
    async with live(migrated_db_url, status=status) as running:
        assert (await running.client.get("/healthz")).json() == {"status": "ok"}
        not_ready = await running.client.get("/readyz")
        assert not_ready.status_code == 503
        assert not_ready.json() == {"ready": False, "database": True, "ari": False}
        status.ari_connected = True
        assert (await running.client.get("/readyz")).json() == {"ready": True, "database": True,
                                                                "ari": True}


async def test_metrics_count_requests_by_status(api: LiveApi) -> None:
    await api.client.get("/v1/me")
    await api.client.get("/v1/me", headers=api.world.auth("ann"))
    text = (await api.client.get("/metrics")).text
    assert 'teamfoned_http_requests_total{method="GET",status="401"} 1.0' in text
    assert 'teamfoned_http_requests_total{method="GET",status="200"} 1.0' in text


async def test_openapi_document_is_what_the_cli_prints(api: LiveApi,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    served = (await api.client.get("/openapi.json")).json()
    capsys.readouterr()  # the access log line of that request
    assert cli_main(["api-schema"]) == 0
    assert json.loads(capsys.readouterr().out) == served
    for firm in ["/v1/me", "/v1/me/availability", "/v1/teams/{team_id}",
                 "/v1/teams/{team_id}/calls", "/v1/export", "/healthz", "/readyz", "/metrics"]:
        assert firm in served["paths"]
    assert {"get", "patch"} <= set(served["paths"]["/v1/me"])
    assert "put" in served["paths"]["/v1/me/availability"]


async def test_tokens_never_in_the_database_or_any_log_line(
        api: LiveApi, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    lines = io.StringIO()
    configure_logging("debug", "json", stream=lines)
    try:
        ann = api.world.people["ann"].token
        made = await api.client.post(f"/v1/admin/members/{api.world.id('erin')}/tokens",
                                     headers=api.world.auth("ann"), json={})
        fresh = made.json()["token"]
        await api.client.get("/v1/me", headers={"Authorization": f"Bearer {fresh}"})
        await api.client.get("/v1/me", headers={"Authorization": f"Bearer {fresh}x"})
        await api.client.get(f"/v1/teams?token={fresh}", headers=api.world.auth("ann"))
        await api.client.get(f"/v1/{fresh}", headers=api.world.auth("ann"))
        await api.client.put("/v1/me/photo", content=png_bytes(),
                             headers={"Authorization": f"Bearer {ann}",
                                      "content-type": "image/png"})
    finally:
        structlog.reset_defaults()
    log = lines.getvalue()
    entries = [json.loads(line) for line in log.splitlines()]
    access = [e for e in entries if e["event"] == "http_request"]
    assert len(access) == 6
    assert {"time", "client", "method", "path", "status", "member_id", "duration_ms"} <= set(
        access[0])
    assert access[0]["member_id"] == str(api.world.id("ann")) and access[0]["client"] == "127.0.0.1"
    assert access[3]["path"] == "/v1/teams"  # no query string
    assert "tfd_[redacted]" in access[4]["path"]
    captured = capsys.readouterr()
    everything = log + captured.out + captured.err + caplog.text
    tokens = [p.token for p in api.world.people.values() if p.token] + [fresh]
    for token in tokens:
        assert token not in everything
        assert token[4:] not in everything
    async with api.sessions() as session:
        for table in Base.metadata.sorted_tables:
            dump = repr((await session.execute(select(table))).all())
            for token in tokens:
                assert token not in dump and token[4:] not in dump, table.name


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


async def test_https_with_hsts(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = api_settings(tls_cert_file=str(cert), tls_key_file=str(key))
    url = f"sqlite+aiosqlite:///{tmp_path / 'tls.db'}"
    from teamfoned.store.engine import create_engine
    from teamfoned.store.migrate import upgrade

    engine = create_engine(url)
    await upgrade(engine)
    await engine.dispose()
    async with live(url, settings) as running:
        assert running.base_url.startswith("https://")
        async with httpx.AsyncClient(base_url=running.base_url, verify=ssl.create_default_context(cafile=str(cert))) as client:
            done = await client.get("/v1/me", headers=running.world.auth("ann"))
        assert done.status_code == 200
        assert done.headers["strict-transport-security"] == "max-age=31536000"
        async with httpx.AsyncClient(base_url=running.base_url.replace("https", "http")) as plain:
            with pytest.raises(httpx.HTTPError):
                await plain.get("/healthz")


def test_plain_http_off_loopback_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as refused:
        settings_from_dict({"ari": {"password": "x"}, "http": {"listen": "0.0.0.0"}})
    assert "http.behind_proxy" in str(refused.value) and "tls_cert_file" in str(refused.value)
    settings_from_dict({"ari": {"password": "x"},
                        "http": {"listen": "0.0.0.0", "behind_proxy": True}})


def test_cli_tokens_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "teamfoned.yaml"
    config.write_text(f"ari: {{password: pw}}\ndatabase: {{url: 'sqlite+aiosqlite:///{tmp_path}/t.db'}}\n")

    def cli(*argv: str) -> int:
        return cli_main(["--config", str(config), *argv])

    assert cli("db", "upgrade") == 0
    assert cli("tenant", "add", "acme") == 0
    assert cli("member", "add", "--tenant", "acme", "--name", "Alice", "--phone", "+31612345678") == 0
    capsys.readouterr()
    assert cli("token", "create", "--tenant", "acme", "Alice", "--label", "laptop",
               "--expires", "2099-01-01T00:00:00Z") == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert token.startswith("tfd_") and "shown only now" in out.err
    token_id = out.err.split("token id ")[1].split(";")[0]
    assert cli("token", "list") == 0
    listing = capsys.readouterr().out
    assert token_id in listing and "Alice" in listing and "laptop" in listing
    assert token not in listing and "2099-01-01" in listing
    export = tmp_path / "export.json"
    assert cli("export", "--tenant", "acme", "--output", str(export)) == 0
    document = json.loads(export.read_text())
    assert [m["name"] for m in document["members"]] == ["Alice"]
    assert export.stat().st_mode & 0o077 == 0
    assert cli("token", "revoke", token_id) == 0
    assert cli("token", "revoke", token_id) == 2
    assert cli("export", "--tenant", "nobody") == 2

"""`teamfoned http --workers 2` as a real process: two workers on one port; SIGTERM stops all cleanly and writes the last token uses."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select

from teamfoned.domain.members import PhonePolicy
from teamfoned.store import members_repo, tenants_repo
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.tables import api_tokens
from teamfoned.store.tokens_repo import create_token
from tests.integration.test_api_bench import free_socket


async def _seed(url: str) -> str:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            now = datetime.now(UTC)
            tenant = await tenants_repo.create_tenant(session, "acme", now=now)
            member = await members_repo.create_member(
                session, tenant, "Wanda Worker", PhonePolicy(("NL",)).check("+31612345677"),
                is_admin=False, now=now)
            _, token = await create_token(session, tenant, member, now=now)
        return token
    finally:
        await engine.dispose()


async def _last_used(url: str) -> datetime | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found: datetime | None = await conn.scalar(select(api_tokens.c.last_used_at))
        return found
    finally:
        await engine.dispose()


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(p) for p in text.split()}


async def _wait_healthy(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    # Bounded by attempts, not asserted in time: a slow machine just takes more of them.
    for _ in range(300):
        assert proc.poll() is None, "teamfoned http exited early"
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("teamfoned http did not answer /healthz")


async def test_two_workers_serve_one_port_and_stop_cleanly(migrated_db_url: str,
                                                           tmp_path: Path) -> None:
    token = await _seed(migrated_db_url)
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()  # the workers' parent binds it (SO_REUSEADDR)
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({
        "ari": {"password": "unused"}, "database": {"url": migrated_db_url},
        "telephony": {"allowed_countries": ["NL"]},
        # No periodic batch during the test: only the stop can write the last use.
        "http": {"listen": "127.0.0.1", "port": port, "last_used_flush_seconds": 3600},
        "logging": {"level": "info", "format": "json"}}))
    log = (tmp_path / "http.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "teamfoned.cli", "--config", str(config),
                             "http", "--workers", "2"], stdout=log, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await _wait_healthy(client, proc)
            workers = _children(proc.pid)
            assert len(workers) == 2, workers
            me = {"Authorization": f"Bearer {token}"}
            for _ in range(6):
                done = await client.get("/v1/me", headers=me)
                assert done.status_code == 200 and done.json()["name"] == "Wanda Worker"
            done = await client.put("/v1/me/availability", headers=me, json={"available": True})
            assert done.status_code == 200 and done.json()["availability"]["available"] is True
        os.kill(proc.pid, signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    output = (tmp_path / "http.log").read_text()
    assert code == 0, output
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # reaped by the parent
    assert "http_workers_stopped" in output
    # The uses waited for a batch that never came; the stop wrote them.
    assert await _last_used(migrated_db_url) is not None

"""5. HTTP module: PUT /v1/me/availability on PostgreSQL with many distinct members.

The API runs as its own process (uvicorn, as teamfoned serves it; with
`workers`, as `teamfoned http --workers N`: N processes on one port) on the
100,000-member database; the load generator is another process with one
token for each of `members` distinct members (tokens inserted as teamfoned
stores them: SHA-256 hashes).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from teamfoned.store.engine import create_engine
from teamfoned.store.tables import api_tokens, members
from teamfoned.store.tokens_repo import new_token, token_hash
from tests.bench.postgres import _free_port

REPO = Path(__file__).resolve().parents[1]


async def make_tokens(url: str, count: int, path: Path) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            rows = (await conn.execute(select(members.c.id, members.c.tenant_id).limit(count))).all()
            tokens, values = [], []
            now = datetime.now(UTC)
            for member_id, tenant_id in rows:
                token = new_token()
                tokens.append(token)
                values.append({"id": uuid.uuid4(), "tenant_id": tenant_id, "member_id": member_id,
                               "token_hash": token_hash(token), "label": "bench", "created_at": now})
            await conn.execute(insert(api_tokens), values)
        path.write_text("\n".join(tokens) + "\n")
    finally:
        await engine.dispose()


async def wait_up(base: str, proc, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError("the API server exited")
            try:
                async with http.get(f"{base}/v1/me") as resp:
                    if resp.status in (200, 401):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the API server did not start")


class ApiProcess:
    def __init__(self, url: str, log: Path, workers: int = 0) -> None:
        self.url, self.log, self.workers = url, log, workers
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    async def __aenter__(self):
        self._log = open(self.log, "ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.http_server", self.url, str(self.port),
            str(self.workers),
            cwd=REPO, stdout=self._log, stderr=self._log)
        await wait_up(self.base, self.proc)
        return self

    async def __aexit__(self, *exc) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self._log.close()


async def measure(url: str, workdir: Path, *, members: int, concurrency: int, seconds: float,
                  limit: int, workers: int = 0) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    tokens = workdir / "tokens.txt"
    await make_tokens(url, members, tokens)
    async with ApiProcess(url, workdir / "api.log", workers) as api:
        load = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.http_load", api.base, str(tokens), str(concurrency),
            str(seconds), str(limit), cwd=REPO, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(load.communicate(), seconds + 60)
        except TimeoutError:
            load.kill()
            await load.wait()
            raise
        if load.returncode != 0:
            raise RuntimeError(f"load generator failed: {err.decode()[-2000:]}")
    return json.loads(out.decode().strip().splitlines()[-1])

"""Load generator (its own process): PUT /v1/me/availability with many members' tokens.

`python -m benchmarks.http_load URL TOKENS_FILE CONCURRENCY SECONDS MAX_REQUESTS`;
prints one JSON line: requests per second, latency percentiles, errors.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import aiohttp

from benchmarks.stats import pct


async def main(base: str, tokens: list[str], concurrency: int, seconds: float, limit: int) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    rng = random.Random(3)
    deadline = time.monotonic() + seconds
    sent = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal sent
        while time.monotonic() < deadline and sent < limit:
            sent += 1
            token = rng.choice(tokens)
            body = {"available": rng.random() < 0.5}
            t0 = time.perf_counter()
            try:
                async with http.put(f"{base}/v1/me/availability", json=body,
                                    headers={"Authorization": f"Bearer {token}"}) as resp:
                    await resp.read()
                    status = resp.status
            except aiohttp.ClientError as exc:
                status = type(exc).__name__
            latencies.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        # Warm-up: connections open, caches filled; not counted.
        async with http.put(f"{base}/v1/me/availability", json={"available": True},
                            headers={"Authorization": f"Bearer {tokens[0]}"}) as resp:
            await resp.read()
        t0 = time.monotonic()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    return {"requests": len(latencies), "seconds": round(elapsed, 2),
            "rps": round(len(latencies) / elapsed, 1), "ms_p50": pct(latencies, 50),
            "ms_p99": pct(latencies, 99), "errors": errors, "concurrency": concurrency,
            "distinct_tokens": len(tokens)}


if __name__ == "__main__":
    base, path, conc, secs, limit = sys.argv[1:6]
    tokens = open(path).read().split()
    print(json.dumps(asyncio.run(main(base, tokens, int(conc), float(secs), int(limit)))))

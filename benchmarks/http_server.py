"""The members' HTTP API alone, as teamfoned serves it, for the load generator.

`python -m benchmarks.http_server DB_URL PORT [WORKERS]`: WORKERS 0 or 1 (the default 0)
serves in this one process, as `teamfoned http` does; N > 1 runs `teamfoned http --workers
N`'s pool of N processes on one port.
"""

from __future__ import annotations

import os
import sys

from teamfoned.api.workers import serve_one, serve_workers
from teamfoned.config import settings_from_dict
from teamfoned.logs import configure_logging


def main(url: str, port: int, workers: int) -> int:
    settings = settings_from_dict({
        "node": "bench", "ari": {"password": "unused"}, "database": {"url": url},
        "http": {"listen": "127.0.0.1", "port": port},
        "logging": {"level": "warning", "format": "json"},
    })
    configure_logging("warning", "json", stream=open(os.devnull, "w"))
    return serve_workers(settings, workers) if workers > 1 else serve_one(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0))

"""The members' HTTP API alone, as teamfoned serves it (uvicorn, one process), for the load generator.

`python -m benchmarks.http_server DB_URL PORT`
"""

from __future__ import annotations

import asyncio
import os
import sys

from teamfoned.api import ApiServer, create_app
from teamfoned.config import settings_from_dict
from teamfoned.logs import configure_logging
from teamfoned.store.engine import create_engine, create_sessionmaker


async def main(url: str, port: int) -> None:
    settings = settings_from_dict({
        "node": "bench", "ari": {"password": "unused"}, "database": {"url": url},
        "http": {"listen": "127.0.0.1", "port": port},
        "logging": {"level": "warning", "format": "json"},
    })
    configure_logging("warning", "json", stream=open(os.devnull, "w"))
    engine = create_engine(url)
    app = create_app(create_sessionmaker(engine), settings)
    try:
        await ApiServer(app, settings.http).serve()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))

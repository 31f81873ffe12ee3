"""Runs the API under uvicorn inside the caller's event loop: HTTPS when configured, signals left to the daemon."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from teamfoned.api.token_uses import TokenUses
from teamfoned.config import HttpSettings, Settings

log = structlog.get_logger(__name__)

# In-flight requests get this long to finish when the server stops.
GRACEFUL_STOP_S = 5


class _EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The daemon owns SIGTERM/SIGINT (graceful stop of calls); uvicorn must not take them.
        yield


def uvicorn_config(app: FastAPI, http: HttpSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=http.listen,
        port=http.port,
        ssl_certfile=str(http.tls_cert_file) if http.tls_cert_file else None,
        ssl_keyfile=str(http.tls_key_file) if http.tls_key_file else None,
        # Only a proxy we were told about may set the client address and scheme.
        proxy_headers=http.behind_proxy,
        forwarded_allow_ips=list(http.proxy_addresses) if http.behind_proxy else [],
        # Our own access log replaces uvicorn's, which would print query strings.
        access_log=False,
        log_config=None,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_STOP_S,
    )


class ApiServer:
    """One uvicorn server; `serve()` runs until `stop()` or until its task is cancelled."""

    def __init__(self, app: FastAPI, http: HttpSettings, *,
                 sockets: list[socket.socket] | None = None) -> None:
        self.server = _EmbeddedServer(uvicorn_config(app, http))
        self.sockets = sockets
        self.token_uses: TokenUses = app.state.api.token_uses

    @property
    def started(self) -> bool:
        return self.server.started

    async def serve(self) -> None:
        """Serve, writing tokens' uses in batches meanwhile and once more after the last request."""
        # Owned here, not by a TaskGroup: the server's own errors (SystemExit when it cannot
        # bind) must reach the caller as they are, not wrapped in an exception group.
        flusher = asyncio.create_task(self.token_uses.run(), name="token-uses")
        try:
            await self._serve()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            # A clean stop loses no use: the requests have finished, so this batch is the last.
            try:
                await self.token_uses.flush()
            except Exception as exc:  # the database is away: a hint is lost, the stop goes on
                log.warning("token_uses_lost", error=str(exc), pending=self.token_uses.pending)

    async def _serve(self) -> None:
        try:
            await self.server.serve(sockets=self.sockets)
        except asyncio.CancelledError:
            # Cancelled by the daemon's TaskGroup: close the listeners, let requests finish.
            self.server.should_exit = True
            if self.server.started:
                await self.server.shutdown(sockets=self.sockets)
            raise

    def stop(self) -> None:
        self.server.should_exit = True


async def serve(app: FastAPI, settings: Settings, *,
                sockets: list[socket.socket] | None = None) -> None:
    """Serve `app` as configured in `settings.http` until cancelled."""
    await ApiServer(app, settings.http, sockets=sockets).serve()

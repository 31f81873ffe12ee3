"""One structured line per request (event "http_request"): who, what path, which status, how long; never a token or query."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamfoned.metrics import Metrics

log = structlog.get_logger("teamfoned.api.access")

# A token pasted into a URL by mistake must not reach the log with it.
TOKEN_IN_PATH = re.compile(r"tfd_[A-Za-z0-9_-]*")
# HSTS: a browser that saw us over HTTPS keeps to HTTPS for a year.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class AccessLog:
    """ASGI middleware: logs and counts every HTTP request, adds the security headers."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app dies before answering
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                # Personal data must not linger in shared caches.
                headers.append((b"cache-control", b"no-store"))
                if https:
                    headers.append(HSTS)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            duration = time.perf_counter() - started
            self.metrics.observe(scope.get("method", ""), status, duration)
            state: dict[str, Any] = scope.get("state") or {}
            client = scope.get("client")
            log.info(
                "http_request",
                time=datetime.now(UTC).isoformat(timespec="milliseconds"),
                client=client[0] if client else None,
                method=scope.get("method"),
                path=TOKEN_IN_PATH.sub("tfd_[redacted]", scope.get("path", "")),
                status=status,
                member_id=state.get("member_id"),
                duration_ms=round(duration * 1000, 1),
            )

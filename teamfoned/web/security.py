"""The web app's defences in one place: the session cookie, CSRF tokens, the Origin check, the response headers."""

from __future__ import annotations

import hashlib
import hmac

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Every page and asset of the web app lives under this prefix.
PREFIX = "/app"
# __Host-: the browser keeps the cookie only if it is Secure, for path / and for this host
# alone, so no sibling subdomain can plant or read it. Browsers treat http://127.0.0.1 and
# http://localhost as secure contexts, so the same flags work on a loopback test bench.
SESSION_COOKIE = "__Host-teamfoned"

# No inline script or style anywhere: every asset comes from this server, nothing else runs.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    # The sign-in page's address holds the one-time secret: never send it to another site.
    # (Not no-referrer: with it, browsers send "Origin: null" on our own form posts.)
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def session_cookie(secret: str, max_age: int) -> str:
    return (f"{SESSION_COOKIE}={secret}; Path=/; Max-Age={max_age}; HttpOnly; Secure; "
            "SameSite=Strict")


def expired_session_cookie() -> str:
    return f"{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"


def csrf_token(session_secret: str) -> str:
    """The session's CSRF token: derived from its secret, so it needs no storage, differs per
    session, and cannot be computed by a page that cannot read the HttpOnly cookie."""
    return hashlib.sha256(b"teamfoned-csrf\0" + session_secret.encode()).hexdigest()


def csrf_ok(session_secret: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(csrf_token(session_secret), sent)


def same_origin(origin: str | None, fetch_site: str | None, own_origins: set[str]) -> bool:
    """Whether a state-changing request may be from our own page.

    Browsers send Origin on every POST and Sec-Fetch-Site on every request; either naming
    another site refuses it. A client that sends neither is not a browser a page could drive,
    and must still carry the session's CSRF token.
    """
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    return origin is None or origin in own_origins


class SecurityHeaders:
    """ASGI middleware: every response under the web app's prefix carries the strict headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    # Pages show personal data: no shared cache keeps them.
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)

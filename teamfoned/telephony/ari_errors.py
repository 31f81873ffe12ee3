"""ARI failures as typed exceptions: HTTP status codes stay inside the ARI adapter."""

from __future__ import annotations

from typing import Any


class AriError(Exception):
    """A REST call to Asterisk failed.

    `status` is the HTTP status, or None when no answer came back at all (see `AriUnreachable`).
    `path` is the request path without host or query, so it is safe to log.
    """

    def __init__(self, status: int | None, method: str, path: str, body: Any) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.body = body
        super().__init__(f"ARI {method} {path} -> {status}: {body!r}")


class AriNotFound(AriError):
    """404: the channel, bridge, variable or application does not exist (any more)."""


class AriConflict(AriError):
    """409: the object exists already (a repeated channel or bridge id) or is in the wrong state."""


class AriUnreachable(AriError):
    """No HTTP answer: connection refused or reset, or the request timed out.

    The request may or may not have reached Asterisk, so a retry must be idempotent
    (a client-generated channel id makes a repeated originate answer 409).
    """


def error_for_status(status: int, method: str, path: str, body: Any) -> AriError:
    """The most specific exception for a non-2xx answer."""
    kind = {404: AriNotFound, 409: AriConflict}.get(status, AriError)
    return kind(status, method, path, body)

"""No request body is read past its limit: a declared length over it is refused at once, a streamed one when it crosses it (413)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from teamfoned.api.errors import error_response

# The limit of one request, by its scope (method and path).
LimitOf = Callable[[Scope], int]


class BodyTooLarge(Exception):
    """Raised from `receive` when the body crosses its limit; the middleware answers 413."""


def _refusal(limit: int) -> Response:
    return error_response("too_large", f"the request body may be at most {limit} bytes")


class BodyLimit:
    """ASGI middleware: caps every HTTP request body, whether it has a Content-Length or is chunked.

    The app reads the body through a counting `receive`; once more than the limit has arrived
    it raises, whatever the app answers then is dropped and the client gets 413 instead.
    Nothing past the limit (plus the one chunk that crossed it) is ever held in memory.
    """

    def __init__(self, app: ASGIApp, limit_of: LimitOf) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope)
        declared = Headers(scope=scope).get("content-length")
        # The server has already refused a Content-Length that is not a number.
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refusal(limit)(scope, receive, send)
            return

        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused and not started:
                return  # the app's answer to a cut-off body; the 413 below replaces it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        if refused and not started:
            await _refusal(limit)(scope, receive, send)

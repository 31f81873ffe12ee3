"""Bearer tokens only, checked from the headers before any body is read; a valid token always passes, failures are limited."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from teamfoned.api.context import ApiContext, context
from teamfoned.api.errors import ApiProblem, error_response
from teamfoned.store.tokens_repo import Caller, find_token, looks_like_token, token_hash

# Every path under this prefix needs a caller; the operations endpoints outside it do not.
AUTHENTICATED_PREFIX = "/v1"

# For the OpenAPI document only: the Authenticate middleware reads the header itself.
bearer = HTTPBearer(auto_error=False, description="A member's API token (tfd_...)")

CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _needs_caller(path: str) -> bool:
    return path == AUTHENTICATED_PREFIX or path.startswith(AUTHENTICATED_PREFIX + "/")


def _bearer_token(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def caller_of(api: ApiContext, authorization: str | None, address: str) -> Caller:
    """The caller the Authorization header speaks for; raises 401, or 429 past the failure limit.

    The token is checked first: a valid token is never refused, so a crowd behind one
    address (a proxy, a NAT) is not locked out by someone else's mistakes. Only failures
    count; an address past the limit gets 429 for every bad token, which makes a flood visible
    (metrics, log) and tells its sender nothing. The limit does not make guessing slower: a
    256-bit token is what makes guessing hopeless.
    """
    now = api.clock()
    token = _bearer_token(authorization)
    if token is not None and looks_like_token(token):
        digest = token_hash(token)
        caller = api.tokens.get(digest, now)
        if caller is None:
            # Taken before the read: a revocation while it is under way keeps its answer out.
            generation = api.tokens.generation
            async with api.transaction() as session:
                grant = await find_token(session, digest, now=now)
            if grant is not None:
                api.tokens.put(digest, grant, generation)
                caller = grant.caller
        if caller is not None:
            # Written in batches (api.token_uses): a request itself writes nothing for it.
            api.token_uses.used(caller.token_id, now)
            return caller
    wait = api.limiter.retry_after(address, now)
    api.limiter.failed(address, now)
    if wait is not None:
        raise ApiProblem("too_many_failures", "too many failed authentications; wait and retry",
                         headers={"Retry-After": str(wait)})
    raise ApiProblem("unauthenticated", "a valid bearer token is required", headers=CHALLENGE)


class Authenticate:
    """ASGI middleware: a request under /v1 is authenticated from its headers before its body is read.

    Refused requests get 401/429 without the app reading a byte of their body; an accepted
    one carries its caller in the request state for `current_caller`.
    """

    def __init__(self, app: ASGIApp, api: ApiContext) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _needs_caller(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        # Behind a declared proxy uvicorn has already put the forwarded address here.
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            caller = await caller_of(self.api, Headers(scope=scope).get("authorization"), address)
        except ApiProblem as problem:
            response = error_response(problem.code, problem.message, problem.fields,
                                      problem.headers)
            await response(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["caller"] = caller
        # For the access log: who made the request (never the token).
        state["member_id"] = str(caller.member_id)
        await self.app(scope, receive, send)


async def current_caller(
    request: Request,
    _: Annotated[object, Depends(bearer)],
) -> Caller:
    """The caller the Authenticate middleware found; a route outside /v1 has none and is refused."""
    caller = getattr(request.state, "caller", None)
    if not isinstance(caller, Caller):
        raise ApiProblem("unauthenticated", "a valid bearer token is required", headers=CHALLENGE)
    return caller


async def current_admin(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_admin:
        raise ApiProblem("forbidden", "only a tenant administrator may do this")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(current_admin)]
ApiDep = Annotated[ApiContext, Depends(context)]

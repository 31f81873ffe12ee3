"""Bearer tokens only, from the Authorization header; failures are rate-limited per client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from teamfoned.api.context import ApiContext, client_address, context
from teamfoned.api.errors import ApiProblem
from teamfoned.store.tokens_repo import Caller, authenticate

# auto_error=False: a missing header gets our own error shape and counts as a failure.
bearer = HTTPBearer(auto_error=False, description="A member's API token (tfd_...)")

CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    api: Annotated[ApiContext, Depends(context)],
) -> Caller:
    address = client_address(request)
    now = api.clock()
    wait = api.limiter.retry_after(address, now)
    if wait is not None:
        # Checked before the token, so guessing cannot go on while the address waits.
        raise ApiProblem("too_many_failures", "too many failed authentications; wait and retry",
                         headers={"Retry-After": str(wait)})
    caller = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        async with api.transaction() as session:
            caller = await authenticate(session, credentials.credentials, now=now)
    if caller is None:
        api.limiter.failed(address, now)
        raise ApiProblem("unauthenticated", "a valid bearer token is required", headers=CHALLENGE)
    # For the access log: who made the request (never the token).
    request.state.member_id = str(caller.member_id)
    return caller


async def current_admin(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
    if not caller.is_admin:
        raise ApiProblem("forbidden", "only a tenant administrator may do this")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]
AdminDep = Annotated[Caller, Depends(current_admin)]
ApiDep = Annotated[ApiContext, Depends(context)]

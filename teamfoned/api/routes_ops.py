"""Operations endpoints: liveness, readiness, metrics; no token needed, metrics only from this machine."""

from __future__ import annotations

import asyncio
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from teamfoned.api.auth import ApiDep
from teamfoned.api.context import client_address
from teamfoned.api.errors import ApiProblem, responses, status_of
from teamfoned.api.schemas import HealthOut, ReadyOut
from teamfoned.store.engine import ping

router = APIRouter(tags=["operations"])

# A database that does not answer this fast is not ready to serve members.
DB_PROBE_TIMEOUT = 2.0


@router.get("/healthz", response_model=HealthOut, summary="Liveness: the process answers")
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut,
            responses={status_of("not_ready"): {"model": ReadyOut, "description": "not ready"}},
            summary="Readiness: database reachable (and ARI connected, inside the daemon)")
async def readyz(api: ApiDep) -> JSONResponse:
    try:
        async with asyncio.timeout(DB_PROBE_TIMEOUT):
            await ping(api.sessions)
        database = True
    except Exception:
        database = False
    ari = None if api.status is None else bool(api.status.ari_connected)
    ready = database and ari is not False
    body = ReadyOut(ready=ready, database=database, ari=ari)
    return JSONResponse(body.model_dump(), status_code=200 if ready else status_of("not_ready"))


def _is_local(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus text exposition"}, **responses("forbidden")},
    summary="Prometheus metrics (from this machine only)")
async def metrics(request: Request, api: ApiDep) -> Response:
    if not _is_local(client_address(request)):
        raise ApiProblem("forbidden", "metrics are served to this machine only")
    return Response(api.metrics.exposition(), media_type="text/plain; version=0.0.4")

"""create_app builds the members' HTTP API from a sessionmaker and the settings; nothing global, nothing started."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import Scope

import teamfoned
from teamfoned.api import errors
from teamfoned.api.access_log import AccessLog
from teamfoned.api.auth import Authenticate
from teamfoned.api.body_limit import BodyLimit
from teamfoned.api.context import ApiContext, Clock, DaemonStatus, system_clock
from teamfoned.api.photo_upload import PHOTO_UPLOADS
from teamfoned.api.rate_limit import FailureLimiter
from teamfoned.api.routes_admin import export_router
from teamfoned.api.routes_admin import router as admin_router
from teamfoned.api.routes_me import router as me_router
from teamfoned.api.routes_ops import router as ops_router
from teamfoned.api.routes_teams import router as teams_router
from teamfoned.api.token_cache import TokenCache
from teamfoned.config import HttpSettings, Settings
from teamfoned.metrics import Metrics
from teamfoned.store.line_signals import LineSignals
from teamfoned.web.pages import install as install_web_app

DESCRIPTION = """Members set their availability and schedule, see their teammates, their team's
calls and hours, call back missed calls, and manage their personal data; tenant administrators
manage teams (settings, opening hours, holidays), numbers, members and webhooks.

Authenticate with `Authorization: Bearer <token>`. Every error has the shape
`{"error": {"code", "message", "fields": [{"field", "message"}]}}`. An object of another
tenant, or a team you are not in, is `404`, the same as one that does not exist."""


def create_app(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    clock: Clock | None = None,
    status: DaemonStatus | None = None,
    metrics: Metrics | None = None,
    line_signals: LineSignals | None = None,
) -> FastAPI:
    """The API app. `status.ari_connected` feeds /readyz; without it readiness is the database alone.
    `line_signals`: the daemon's, when the API runs inside it (an availability change wakes
    the callers waiting in line at once, on SQLite too)."""
    app = FastAPI(
        title="teamfoned members API",
        version=getattr(teamfoned, "__version__", "0.1.0"),
        description=DESCRIPTION,
        # The interactive docs pages load scripts from a third party: not on a privacy-first API.
        docs_url=None,
        redoc_url=None,
    )
    api = ApiContext(
        sessions=sessionmaker, settings=settings, clock=clock or system_clock, status=status,
        limiter=FailureLimiter(settings.http.auth_failures_per_minute),
        tokens=TokenCache(settings.http.token_cache_seconds),
        # Inside the daemon, the daemon's registry: /metrics then shows calls and requests.
        metrics=metrics or Metrics(),
        line_signals=line_signals,
    )
    app.state.api = api
    errors.install(app)
    for router in (me_router, teams_router, admin_router, export_router, ops_router):
        app.include_router(router)
    # The members' web app: pages under /app, on the same context, store and domain rules.
    install_web_app(app)
    # Outermost last: log everything; cap the body; authenticate from the headers; then the routes.
    app.add_middleware(Authenticate, api=api)
    app.add_middleware(BodyLimit, limit_of=body_limits(settings.http))
    app.add_middleware(AccessLog, metrics=api.metrics)
    return app


def body_limits(http: HttpSettings) -> Callable[[Scope], int]:
    """A photo upload may be `http.photo_max_bytes`; every other body `http.max_body_bytes`."""

    def limit_of(scope: Scope) -> int:
        if (scope.get("method"), scope.get("path")) in PHOTO_UPLOADS:
            return http.photo_max_bytes
        return http.max_body_bytes

    return limit_of

"""Every error the API answers with has one JSON shape, and this is the only place that knows HTTP status codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from teamfoned.api.schemas import ErrorBody
from teamfoned.domain.errors import AlreadyExists, Invalid, LastAdmin, NotFound
from teamfoned.domain.phones import PhoneRejected

log = structlog.get_logger(__name__)

# The error codes clients see, and the status each travels with.
STATUS = {
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "too_large": 413,
    "unsupported_media_type": 415,
    "invalid": 422,
    "too_many_failures": 429,
    "internal": 500,
    "not_ready": 503,
}
CODE_OF_STATUS = {status: code for code, status in STATUS.items()}

# The statuses every authenticated route may answer with, for the OpenAPI document.
COMMON = ("unauthenticated", "not_found", "invalid", "too_many_failures")


class ApiProblem(Exception):
    """A request the API refuses, named by code; the status comes from STATUS."""

    def __init__(self, code: str, message: str, *, fields: Iterable[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        assert code in STATUS, code
        self.code = code
        self.message = message
        self.fields = list(fields)
        self.headers = dict(headers or {})
        super().__init__(message)


def status_of(code: str) -> int:
    return STATUS[code]


def responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the given error codes, all with the one error shape."""
    return {STATUS[c]: {"model": ErrorBody, "description": c.replace("_", " ")} for c in codes}


def error_response(code: str, message: str, fields: Iterable[tuple[str, str]] = (),
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message,
                      "fields": [{"field": f, "message": m} for f, m in fields]}}
    return JSONResponse(body, status_code=STATUS[code], headers=dict(headers or {}))


def _field_name(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc]
    # "body", "query", "path" say where, not what: keep them only when nothing else is left.
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts)


def _validation_message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def install(app: FastAPI) -> None:
    """Map every exception to the one error shape; nothing escapes as an HTML page or a bare 500."""

    @app.exception_handler(ApiProblem)
    async def _problem(_: Request, exc: ApiProblem) -> JSONResponse:
        return error_response(exc.code, exc.message, exc.fields, exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return error_response("not_found", f"no such {exc.what}")

    @app.exception_handler(AlreadyExists)
    async def _exists(_: Request, exc: AlreadyExists) -> JSONResponse:
        return error_response("conflict", str(exc))

    @app.exception_handler(LastAdmin)
    async def _last_admin(_: Request, exc: LastAdmin) -> JSONResponse:
        return error_response("conflict", str(exc))

    @app.exception_handler(Invalid)
    async def _invalid(_: Request, exc: Invalid) -> JSONResponse:
        return error_response("invalid", "some values were refused", exc.fields)

    @app.exception_handler(PhoneRejected)
    async def _phone(_: Request, exc: PhoneRejected) -> JSONResponse:
        return error_response("invalid", "the phone was refused", [("phone", str(exc))])

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A concurrent request won a uniqueness race; the transaction was rolled back.
        log.info("http_conflict", reason=type(exc.orig).__name__)
        return error_response("conflict", "the change clashes with another one; try again")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [(_field_name(e.get("loc", ())), _validation_message(e)) for e in exc.errors()]
        return error_response("invalid", "the request has invalid values", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = CODE_OF_STATUS.get(exc.status_code, "bad_request")
        message = {"not_found": "no such path", "method_not_allowed": "method not allowed"}.get(
            code, str(exc.detail))
        return error_response(code, message, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("http_unexpected_error", error=type(exc).__name__)
        return error_response("internal", "internal error; it has been logged")

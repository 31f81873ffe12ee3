"""Photos in and out: the size limit is enforced while reading, the bytes re-encoded before storing, and served inert."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request, Response

from teamfoned.api.errors import ApiProblem
from teamfoned.api.photos import PhotoRefused, normalise_photo
from teamfoned.api.schemas import PHOTO_TYPES

# The uploads whose body may be `http.photo_max_bytes` rather than `http.max_body_bytes`.
# The web app's form upload is the same photo, in a multipart body.
PHOTO_UPLOADS = frozenset({("PUT", "/v1/me/photo"), ("POST", "/app/me/photo")})

# For the OpenAPI document: the photo is the raw request body.
PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
    }
}
PHOTO_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                    for t in PHOTO_TYPES}, "description": "the photo"}}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


async def read_photo(request: Request, limit: int) -> tuple[bytes, str]:
    """The uploaded photo as it will be stored (re-encoded), and its content type."""
    declared = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared not in PHOTO_TYPES:
        raise ApiProblem("unsupported_media_type",
                         f"send the photo as {' or '.join(PHOTO_TYPES)}")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiProblem("too_large", f"the photo may be at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiProblem("too_large", f"the photo may be at most {limit} bytes")
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        # Decoding takes a while for a large photo: not on the event loop that routes calls.
        stored, kind = await asyncio.to_thread(normalise_photo, data, declared)
    except PhotoRefused as exc:
        raise ApiProblem("invalid", "the photo was refused", fields=[("photo", str(exc))]) from None
    if len(stored) > limit:
        raise ApiProblem("too_large", f"the photo is {len(stored)} bytes once re-encoded, over "
                                      f"the limit of {limit}; send a smaller one")
    return stored, kind


def photo_response(data: bytes, kind: str) -> Response:
    """A stored photo, served so that no browser runs or sniffs anything in it."""
    # X-Content-Type-Options: nosniff comes with every response (the access log middleware).
    return Response(data, media_type=kind, headers={
        "Content-Security-Policy": "default-src 'none'",
        "Content-Disposition": f"inline; filename=photo.{EXTENSIONS.get(kind, 'bin')}",
    })

"""Reading an uploaded photo: the size limit is enforced while reading, the content checked before storing."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from teamfoned.api.errors import ApiProblem
from teamfoned.api.photos import PhotoRefused, check_photo
from teamfoned.api.schemas import PHOTO_TYPES

# For the OpenAPI document: the photo is the raw request body.
PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
    }
}
PHOTO_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                                    for t in PHOTO_TYPES}, "description": "the photo"}}


async def read_photo(request: Request, limit: int) -> tuple[bytes, str]:
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
        kind = check_photo(data, declared)
    except PhotoRefused as exc:
        raise ApiProblem("invalid", "the photo was refused", fields=[("photo", str(exc))]) from None
    return data, kind

"""Keyset-pagination cursors: the last row's sort key, opaque to clients; a cursor we did not hand out is refused."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

from teamfoned.domain.errors import Invalid

Key = int | datetime | uuid.UUID
# Calls happen in this range; a time outside it is a forged cursor (and would overflow when
# compared in UTC near year 1 or 9999).
YEARS = (1970, 9000)
_REFUSED = Invalid([("cursor", "not a cursor this API handed out")])


def encode_cursor(*key: Key) -> str:
    parts = [k.isoformat() if isinstance(k, datetime) else k.hex if isinstance(k, uuid.UUID)
             else str(k) for k in key]
    return base64.urlsafe_b64encode("|".join(parts).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *kinds: type[Key]) -> tuple[Key, ...]:
    """The key encode_cursor wrote, one value per kind (int, datetime or uuid.UUID)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        parts = raw.split("|")
        if len(parts) != len(kinds):
            raise ValueError("shape")
        return tuple(_part(text, kind) for text, kind in zip(parts, kinds, strict=True))
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise _REFUSED from None


def _part(text: str, kind: type[Key]) -> Key:
    if kind is datetime:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None or not YEARS[0] <= when.year <= YEARS[1]:
            raise ValueError("time")
        return when.astimezone(UTC)
    if kind is uuid.UUID:
        return uuid.UUID(hex=text)
    if not text.isdigit():
        raise ValueError("int")
    return int(text)

"""How a webhook request is signed and checked: HMAC-SHA256 over "<delivery id>.<timestamp>.<body>"; no I/O.

The delivery id is signed too, so a captured request cannot be replayed as another delivery
(the receiver drops repeats by that id), and the timestamp bounds how long it can be replayed.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Teamfoned-Signature"
TIMESTAMP_HEADER = "X-Teamfoned-Timestamp"
EVENT_HEADER = "X-Teamfoned-Event"
DELIVERY_HEADER = "X-Teamfoned-Delivery"
# A receiver should refuse a signature older than this (replay protection).
DEFAULT_TOLERANCE_SECONDS = 300


def signed_text(delivery_id: str, timestamp: int, body: bytes) -> bytes:
    """What the signature covers: the delivery id, the timestamp and the raw body, joined by dots."""
    return f"{delivery_id}.{timestamp}.".encode() + body


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header: "sha256=<hex>"."""
    mac = hmac.new(secret.encode(), signed_text(delivery_id, timestamp, body), hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, delivery_id: str, timestamp: int, body: bytes, header: str, *, now: int,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, delivery_id, timestamp, body), header)

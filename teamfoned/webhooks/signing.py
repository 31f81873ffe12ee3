"""How a webhook request is signed and checked: HMAC-SHA256 over "<timestamp>.<body>"; no I/O."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Teamfoned-Signature"
TIMESTAMP_HEADER = "X-Teamfoned-Timestamp"
EVENT_HEADER = "X-Teamfoned-Event"
DELIVERY_HEADER = "X-Teamfoned-Delivery"
# A receiver should refuse a signature older than this (replay protection).
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the signature header: "sha256=<hex>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: int, body: bytes, header: str, *, now: int,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)

"""A member's PIN for the availability line: its shape, and its salted scrypt hash (never stored in clear)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from teamfoned.domain.errors import Invalid

PIN = re.compile(r"^[0-9]{4,12}$")
# A PIN has few digits: the hash must be slow to try (scrypt, 16 MiB, ~50 ms).
_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt"


def check_pin(pin: str) -> str:
    """Return `pin` if it is 4 to 12 digits; Invalid naming the field otherwise."""
    if not isinstance(pin, str) or not PIN.match(pin):
        raise Invalid.value("pin", "must be 4 to 12 digits")
    if len(set(pin)) == 1:
        raise Invalid.value("pin", "must not be one digit repeated")
    return pin


def hash_pin(pin: str, salt: bytes) -> str:
    """The stored form of `pin` with a random `salt` the caller draws (16 bytes)."""
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join((_PREFIX, str(_N), str(_R), str(_P), _b64(salt), _b64(digest)))


def verify_pin(pin: str, stored: str) -> bool:
    """Whether `pin` is the one `stored` was made from (in constant time)."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()

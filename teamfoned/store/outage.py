"""What the daemon hears from a store that runs on its last known state: no SQL here, so the port can name it."""

from __future__ import annotations


class DatabaseUnavailable(RuntimeError):
    """The database does not answer and what we remember is too old to route on."""

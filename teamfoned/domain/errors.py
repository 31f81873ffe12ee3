"""What a store operation refuses, in the directory's words; the HTTP layer decides how to say it."""

from __future__ import annotations


class Refused(Exception):
    """A request the store will not carry out; nothing has been written."""


class NotFound(Refused):
    """No such object in the caller's tenant (or out of the caller's reach: the same thing)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no such {what}")


class AlreadyExists(Refused):
    """The object would clash with one that exists (a name or number is taken)."""


class Invalid(Refused):
    """Values that cannot be stored; `fields` pairs each offending field with the reason."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields
        super().__init__("; ".join(f"{f}: {m}" for f, m in fields))

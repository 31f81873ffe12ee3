"""What a store operation refuses, in the directory's words; the HTTP layer decides how to say it."""

from __future__ import annotations

from collections.abc import Iterable


class Refused(Exception):
    """A request the store will not carry out; nothing has been written."""


class NotFound(Refused):
    """No such object in the caller's tenant (or out of the caller's reach: the same thing)."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"no such {what}")


class AlreadyExists(Refused):
    """The object would clash with one that exists (a name or number is taken)."""


class LastAdmin(Refused):
    """The change would leave a tenant that has an admin without one (demotion or erasure)."""

    def __init__(self, who: str) -> None:
        super().__init__(f"{who} is the tenant's last admin; make another member admin first")


class Invalid(Refused):
    """Values that cannot be stored; `fields` pairs each offending field with the reason.

    Its text, for a person reading the refusal whole (the console), is each field with its
    reason, or `message` when one was given.
    """

    def __init__(self, fields: Iterable[tuple[str, str]], *, message: str | None = None) -> None:
        self.fields = list(fields)
        super().__init__(message or "; ".join(f"{f}: {m}" if f else m for f, m in self.fields))

    @classmethod
    def value(cls, field: str, reason: str) -> Invalid:
        """One value refused with a reason that names it ("team name 'x!' must be ..."), so the
        reason alone is the whole message."""
        return cls([(field, reason)], message=reason)

"""What the daemon needs from the store, and nothing more: the store meets it by structure and never imports it.

`RoutingStore` is the call path's contract (dispatcher, runner, resync, adopted
calls); `DaemonStore` adds what the daemon's lifecycle needs from the store it
runs on (the outage loop and its degraded flag). The store's classes do not
name these Protocols; mypy checks them against both at the bottom of this file,
and the unit tests' fake subclasses `RoutingStore`, so a fake cannot drift either.

A read of a store running on its last known state may raise `DatabaseUnavailable`
(the store's own error, re-exported here): the call then goes to its fallback.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from teamfoned.domain.availability_line import LineMember
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import (
    AttemptResult,
    CallOutcome,
    Candidate,
    LineView,
    OpenCallState,
    TeamRoute,
)
from teamfoned.store.outage import DatabaseUnavailable

__all__ = ["DaemonStore", "DatabaseUnavailable", "LineSignalling", "LineStore", "RoutingStore",
           "WaitingLineStore"]


class RoutingStore(Protocol):
    """Reads and writes of the call path; every write is one record change, safe to repeat."""

    # -- reads -------------------------------------------------------------------------------

    async def team_for_number(self, number: str) -> TeamRoute | None:
        """The team a dialled number belongs to (with or without its leading "+"), or None."""
        ...

    async def team_number(self, tenant_id: uuid.UUID, team_name: str) -> str | None:
        """A number of the named team in the tenant (overflow goes there), or None."""
        ...

    async def opening_hours(self, team_id: uuid.UUID, around: date) -> tuple[list[WeeklyPeriod], set[date]]:
        """The team's weekly opening periods and its holidays near `around` (a local date)."""
        ...

    async def candidates(self, team_id: uuid.UUID, *, now: datetime,
                         exclude: Iterable[uuid.UUID] = ()) -> list[Candidate]:
        """Members of the team who could be rung now, in priority order, less `exclude`."""
        ...

    async def candidates_in_line(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                                 now: datetime, exclude: Iterable[uuid.UUID] = ()
                                 ) -> tuple[list[Candidate], LineView]:
        """`candidates` and the team's waiting line as this call sees it (WaitingLineStore's
        `line_view`), read together: the one read before a member's INVITE. While the
        database is away: the last known candidates, and the line unknown."""
        ...

    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str] | None:
        """(phone kind, phone) of a member, for the dial string; None if the member is gone or
        their SIP endpoint is not assigned to their tenant (never dialled)."""
        ...

    async def open_call_states(self, node: str) -> list[OpenCallState]:
        """Calls of `node` with no outcome yet and their open attempts (resync after a restart)."""
        ...

    # -- writes ------------------------------------------------------------------------------

    async def start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                         caller_number: str | None, dialled_number: str | None,
                         channel_id: str | None, node: str, now: datetime) -> None:
        """Record a new call."""
        ...

    async def write_call_row(self, call_id: uuid.UUID) -> None:
        """The call's row written now if it is still held back for its first claim: a row of
        another table is about to refer to it (the caller joins the waiting line)."""
        ...

    async def claim(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                    channel_id: str | None, *, now: datetime, node: str) -> bool:
        """Book the member for this call (open their attempt); False if someone was faster."""
        ...

    async def attempt_answered(self, attempt_id: uuid.UUID, *, now: datetime) -> None:
        """The member answered this attempt."""
        ...

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        """Close the attempt with its result and release the member (once)."""
        ...

    async def call_answered(self, call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> None:
        """The caller is connected to this member."""
        ...

    async def finish_call(self, call_id: uuid.UUID, outcome: CallOutcome, *, now: datetime,
                          wait_seconds: float | None, talk_seconds: float | None) -> None:
        """Record the call's outcome (once) and close any attempt of it still open."""
        ...

    async def save_rr_position(self, team_id: uuid.UUID, pos: int | None) -> None:
        """Where round robin starts next time in this team."""
        ...

    async def mark_unavailable_after_misses(self, member_id: uuid.UUID, threshold: int, *,
                                            now: datetime) -> bool:
        """Make the member unavailable if their last `threshold` attempts all went unanswered."""
        ...


class DaemonStore(RoutingStore, Protocol):
    """The store the daemon runs on: the call path's contract plus its outage loop."""

    @property
    def degraded(self) -> bool:
        """True while calls run on the last known state (database away, or writes not replayed)."""
        ...

    async def run(self, closing: asyncio.Event) -> None:
        """Keep the store in step with the database until `closing` is set."""
        ...


class LineStore(Protocol):
    """What the availability line (a member calling in from their phone) reads and writes."""

    async def line_members(self, number: str, *, now: datetime) -> list[LineMember]:
        """Every member, of any tenant, whose phone is the E.164 `number`."""
        ...

    async def pin_entered(self, member_id: uuid.UUID, right: bool, *, now: datetime) -> None:
        """Count a PIN attempt: a right one resets the member's wrong ones, a wrong one adds one."""
        ...

    async def set_availability(self, tenant_id: uuid.UUID, member_id: uuid.UUID, available: bool,
                               until: datetime | None, *, now: datetime) -> None:
        """The member's availability, as if they set it themselves."""
        ...


class WaitingLineStore(Protocol):
    """The team's waiting line, kept in the database so every node sees one order."""

    async def line_view(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                        now: datetime, exclude: Iterable[uuid.UUID] = ()) -> LineView:
        """Callers ahead of this call with no member ringing for them, and the team's
        available members less `exclude` (free or busy)."""
        ...

    async def join_line(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                        arrived_at: datetime, node: str, now: datetime) -> None:
        """Put the call in its team's line, ordered by `arrived_at`; once per call."""
        ...

    async def leave_line(self, call_id: uuid.UUID, *, now: datetime) -> None:
        """Take the call out of its line (once)."""
        ...

    async def recent_line_waits(self, team_id: uuid.UUID, *, since: datetime,
                                limit: int) -> list[float]:
        """Seconds in line of the team's callers answered from it since `since`, latest first,
        at most `limit` (the expected wait's history)."""
        ...

    async def request_callback(self, call_id: uuid.UUID, *, now: datetime) -> None:
        """The call's entry becomes a callback request, in its place in the line."""
        ...

    async def callback_retry_later(self, call_id: uuid.UUID, *, tries: int, due_at: datetime) -> None:
        """`tries` callbacks went unanswered; until `due_at` the request holds no member back."""
        ...


class LineSignalling(Protocol):
    """Wake-ups for this node's waiting calls, and the signal that reaches every node's."""

    def subscribe(self, waker: Callable[[], None]) -> None:
        ...

    def unsubscribe(self, waker: Callable[[], None]) -> None:
        ...

    def line_moved(self) -> None:
        """A member was freed or a caller left a line: every node's waiting calls look again."""
        ...

    def line_moved_after(self, seconds: float) -> None:
        """line_moved() once `seconds` have passed (a wrap-up ends)."""
        ...

    def member_freed(self, result: AttemptResult, wrap_up: float) -> None:
        """A member's attempt ended with `result`: line_moved() now, and again once the wrap-up
        ends after an answered call (Stasis and FastAGI calls alike)."""
        ...


if TYPE_CHECKING:
    from teamfoned.store.line_repo import LineRepository
    from teamfoned.store.line_signals import LineSignals
    from teamfoned.store.resilient_repo import ResilientRepository
    from teamfoned.store.routing_repo import RoutingRepository
    from teamfoned.store.waiting_repo import WaitingRepository

    def _stores_meet_the_contract(plain: RoutingRepository, resilient: ResilientRepository,
                                  line: WaitingRepository, signals: LineSignals) -> None:
        # Never called: mypy proves here that the store classes implement the Protocols.
        call_path: list[RoutingStore] = [plain, resilient]
        daemon: DaemonStore = resilient
        waiting: WaitingLineStore = line
        signalling: LineSignalling = signals
        del call_path, daemon, waiting, signalling

    def _line_store_meets_the_contract(line: LineRepository) -> None:
        checked: LineStore = line
        del checked

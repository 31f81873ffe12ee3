"""The routing repository when the database may go away: reads from the last known state while it is fresh, writes to the journal.

While the database answers, this is the plain `RoutingRepository` plus a cache
of what it read. When a statement fails (connection refused, terminated,
timed out), the daemon degrades instead of dropping calls:
- candidates come from the last list read if it is no older than `stale_after`
  seconds, less every member this node has claimed since; otherwise
  `DatabaseUnavailable` is raised and the call goes to the fallback (with its
  record); a number's team and a member's phone come from the last value read,
  whatever its age (they change rarely; availability is what goes stale), and so
  do a team's opening hours;
- claims are decided locally (this node's members in calls are busy);
- every write is appended to the journal (fsynced) and replayed, in order and
  idempotently, once the database answers again; until the journal is empty,
  every new write goes to its end, so the order of writes is kept.
With several nodes, claims made during an outage are per node only: two nodes
may ring the same member then (see docs/operations-faults.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import AttemptResult, CallOutcome, Candidate, LineView, OpenCallState, TeamRoute
from teamfoned.store.journal import Journal, JournalOp
from teamfoned.store.outage import DatabaseUnavailable
from teamfoned.store.routing_repo import RoutingRepository

log = structlog.get_logger(__name__)

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
Hours = tuple[list[WeeklyPeriod], set[date]]
# What replay knows of an attempt at the end of the journal: answered_at, ended_at, result.
FinalAttempts = dict[uuid.UUID, dict[str, Any]]

# How long a phone read with the candidates serves the dial without a read of its own: a call
# dials its candidates within moments of reading them; a later wave reads them again anyway.
PHONE_FROM_CANDIDATES_FOR = 10.0

# A call's row waits for its first claim, to be written in the same round trip; a call that
# claims nobody this soon (closed, nobody available) is written by the run loop instead.
CALL_ROW_WAITS_FOR_CLAIM = 1.0

# Errors that mean "the database is not reachable", as opposed to a refused statement.
UNREACHABLE = (OperationalError, InterfaceError, OSError, TimeoutError, ConnectionError)


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, UNREACHABLE)


def _replay_claim(repo: RoutingRepository, args: dict[str, Any], final: FinalAttempts) -> Awaitable[object]:
    # An attempt goes in once, in the final state the journal knows, so that a closed one
    # never meets the open-attempt index.
    return repo.replay_attempt(args["attempt_id"], args["call_id"], args["member_id"], args["channel_id"],
                               node=args["node"], started_at=args["now"], **final[args["attempt_id"]])


# The one table from a journal operation to its replay (each idempotent: a row already there stays).
REPLAY: dict[JournalOp, Callable[[RoutingRepository, dict[str, Any], FinalAttempts], Awaitable[object]]] = {
    JournalOp.START_CALL: lambda repo, args, _: repo.replay_start_call(**args),
    JournalOp.CLAIM: _replay_claim,
    JournalOp.ATTEMPT_ANSWERED: lambda repo, args, _: repo.attempt_answered(**args),
    JournalOp.ATTEMPT_ENDED: lambda repo, args, _: repo.attempt_ended(**args),
    JournalOp.CALL_ANSWERED: lambda repo, args, _: repo.call_answered(**args),
    JournalOp.FINISH_CALL: lambda repo, args, _: repo.finish_call(**args),
    JournalOp.SAVE_RR_POSITION: lambda repo, args, _: repo.save_rr_position(**args),
}


def _final_attempts(entries: list[tuple[JournalOp, dict[str, Any]]]) -> FinalAttempts:
    """Each journalled attempt's state once every entry is applied: its first answer, its first end."""
    final: FinalAttempts = {}
    for op, args in entries:
        if op is JournalOp.CLAIM:
            final[args["attempt_id"]] = {"answered_at": None, "ended_at": None, "result": None}
        elif op is JournalOp.ATTEMPT_ANSWERED and args["attempt_id"] in final:
            final[args["attempt_id"]]["answered_at"] = final[args["attempt_id"]]["answered_at"] or args["now"]
        elif op is JournalOp.ATTEMPT_ENDED and args["attempt_id"] in final:
            state = final[args["attempt_id"]]
            if state["ended_at"] is None:
                state["ended_at"], state["result"] = args["now"], args["result"]
    return final


class ResilientRepository:
    """The daemon's store (telephony.ports.DaemonStore): `RoutingRepository`'s call path, kept going; see the module rule."""

    def __init__(self, repo: RoutingRepository, journal: Journal, *, stale_after: float = 300.0,
                 statement_timeout: float = 3.0, retry_every: float = 1.0, probe_every: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.repo = repo
        self.journal = journal
        self.stale_after = stale_after
        self.statement_timeout = statement_timeout
        self.retry_every = retry_every
        self.probe_every = probe_every
        self._monotonic = monotonic
        # Orders writes against the replay, and only while the journal holds writes: the healthy
        # path never takes it (one lock for every write capped the call rate and queued claims).
        self._lock = asyncio.Lock()
        self._routes: dict[str, tuple[float, TeamRoute | None]] = {}
        self._numbers: dict[tuple[uuid.UUID, str], tuple[float, str | None]] = {}
        self._candidates: dict[uuid.UUID, tuple[float, list[Candidate]]] = {}
        self._hours: dict[tuple[uuid.UUID, date], tuple[float, Hours]] = {}
        self._phones: dict[uuid.UUID, tuple[float, tuple[str, str] | None]] = {}
        # This node's open claims: member -> attempt, attempt -> (member, call).
        self._local_busy: dict[uuid.UUID, uuid.UUID] = {}
        self._local_attempts: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID]] = {}
        # Calls recorded (start_call) but not written yet: call -> (when, start_call's arguments).
        self._unwritten_calls: dict[uuid.UUID, tuple[float, dict[str, Any]]] = {}
        # Rows taken from there whose write (alone, or with the first claim) has not ended yet:
        # the call's other writes wait for it, else they could reach the database before the row.
        self._rows_in_flight: dict[uuid.UUID, asyncio.Future[None]] = {}
        self.database_ok = True
        self.replayed = 0  # entries written to the database from the journal, in total

    @property
    def degraded(self) -> bool:
        """True while the database is unreachable or the journal still holds writes."""
        return not self.database_ok or len(self.journal) > 0

    # -- running -----------------------------------------------------------------------------

    async def run(self, closing: asyncio.Event) -> None:
        """Replay the journal whenever it holds writes, until `closing` is set (one last try then)."""
        if len(self.journal):
            log.warning("journal_found", entries=len(self.journal), path=str(self.journal.path))
        probed = self._monotonic()
        while not closing.is_set():
            await self._write_waiting_calls(older_than=CALL_ROW_WAITS_FOR_CLAIM)
            if len(self.journal):
                await self.replay()
            elif self._monotonic() - probed >= self.probe_every:
                # A quiet daemon must notice an outage too (readiness), not only at the next call.
                probed = self._monotonic()
                await self._probe()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.retry_every):
                    await closing.wait()
        await self._write_waiting_calls(older_than=0.0)
        if len(self.journal):
            await self.replay()

    async def _write_waiting_calls(self, *, older_than: float) -> None:
        for call_id, (since, _) in list(self._unwritten_calls.items()):
            if self._monotonic() - since >= older_than:
                with self._tolerating_outage():  # else it is in the journal: written on replay
                    await self._write_call_row(call_id)

    async def _write_call_row(self, call_id: uuid.UUID) -> None:
        """The call's row, if it still waits for its first claim: before any other write of the call.

        Also when another task has it on its way (the run loop, the first claim): then this
        waits until that write has ended, written or journalled.
        """
        waiting = self._unwritten_calls.pop(call_id, None)
        if waiting is None:
            await self._row_written(call_id)
            return
        with self._row_in_flight(call_id):
            await self._write(JournalOp.START_CALL, self.repo.start_call, **waiting[1])

    @contextlib.contextmanager
    def _row_in_flight(self, call_id: uuid.UUID) -> Iterator[None]:
        done = asyncio.get_running_loop().create_future()
        self._rows_in_flight[call_id] = done
        try:
            yield
        finally:
            del self._rows_in_flight[call_id]
            done.set_result(None)

    async def _row_written(self, call_id: uuid.UUID) -> None:
        in_flight = self._rows_in_flight.get(call_id)
        if in_flight is not None:
            # Shielded: a waiter that is cancelled must not cancel the other task's write.
            await asyncio.shield(in_flight)

    async def _probe(self) -> None:
        with self._tolerating_outage():
            await self._db(self.repo.ping())

    async def replay(self) -> int:
        """Write every journal entry to the database, in order; returns how many were replayed."""
        async with self._lock:
            entries = self.journal.entries()
            if not entries:
                return 0
            try:
                async with asyncio.timeout(self.statement_timeout * max(1, len(entries))):
                    await self._replay(entries)
            except IntegrityError:
                # A call still open here holds a member another node booked meanwhile: its
                # attempt goes in once one of the two ends. Retried on the next round.
                log.warning("journal_replay_deferred", entries=len(entries))
                return 0
            except Exception as exc:
                if not _unreachable(exc):
                    log.exception("journal_replay_failed", entries=len(entries))
                self._mark_down(exc)
                return 0
            self.journal.clear()
            self.replayed += len(entries)
            self._mark_up()
            log.warning("journal_replayed", entries=len(entries), replayed_total=self.replayed)
            return len(entries)

    async def _replay(self, entries: list[tuple[JournalOp, dict[str, Any]]]) -> None:
        final = _final_attempts(entries)
        for op, args in entries:
            await REPLAY[op](self.repo, args, final)

    # -- reads -------------------------------------------------------------------------------

    async def team_for_number(self, number: str) -> TeamRoute | None:
        return await self._read(self._routes, number, lambda: self.repo.team_for_number(number), None)

    async def team_number(self, tenant_id: uuid.UUID, team_name: str) -> str | None:
        return await self._read(self._numbers, (tenant_id, team_name),
                                lambda: self.repo.team_number(tenant_id, team_name), None)

    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str] | None:
        # The candidates' read brought the phone along moments ago (the member is dialled
        # right after it): no second round trip for it.
        hit = self._phones.get(member_id)
        if hit is not None and self._monotonic() - hit[0] <= PHONE_FROM_CANDIDATES_FOR:
            return hit[1]
        return await self._read(self._phones, member_id, lambda: self.repo.member_phone(member_id), None)

    async def opening_hours(self, team_id: uuid.UUID, around: date) -> Hours:
        return await self._read(self._hours, (team_id, around),
                                lambda: self.repo.opening_hours(team_id, around), None)

    async def mark_unavailable_after_misses(self, member_id: uuid.UUID, threshold: int, *,
                                            now: datetime) -> bool:
        # A convenience, not a record: skipped while the database is away or behind.
        if self._journaling:
            return False
        with self._tolerating_outage():
            return await self._db(self.repo.mark_unavailable_after_misses(member_id, threshold, now=now))
        return False

    async def candidates(self, team_id: uuid.UUID, *, now: datetime,
                         exclude: Iterable[uuid.UUID] = ()) -> list[Candidate]:
        excluded = set(exclude)
        if not self._journaling:
            with self._tolerating_outage():
                with_phones = await self._db(self.repo.candidates_with_phones(team_id, now=now, exclude=()))
                return [c for c in self._remember(team_id, with_phones) if c.member_id not in excluded]
        return self._last_known_candidates(team_id, excluded)

    async def candidates_in_line(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                                 now: datetime, exclude: Iterable[uuid.UUID] = ()
                                 ) -> tuple[list[Candidate], LineView]:
        excluded = set(exclude)
        if not self._journaling:
            with self._tolerating_outage():
                with_phones, line = await self._db(self.repo.candidates_with_phones_in_line(
                    team_id, call_id, arrived_at=arrived_at, now=now, exclude=excluded))
                return [c for c in self._remember(team_id, with_phones) if c.member_id not in excluded], line
        return self._last_known_candidates(team_id, excluded), LineView(unknown=True)

    def _remember(self, team_id: uuid.UUID,
                  with_phones: list[tuple[Candidate, tuple[str, str] | None]]) -> list[Candidate]:
        """Keep a team's candidates (all of them) for an outage; their phones came in the same
        statement: the dial needs no read of its own, and a member first rung during an outage
        has one."""
        read_at = self._monotonic()
        found = [candidate for candidate, _ in with_phones]
        self._candidates[team_id] = (read_at, found)
        for candidate, phone in with_phones:
            self._phones[candidate.member_id] = (read_at, phone)
        return found

    def _last_known_candidates(self, team_id: uuid.UUID, excluded: set[uuid.UUID]) -> list[Candidate]:
        found = self._fresh(self._candidates, team_id, "candidates", self.stale_after)
        # Whoever this node has claimed since is busy; other nodes' claims are unknown here.
        return [c for c in found if c.member_id not in excluded and c.member_id not in self._local_busy]

    async def open_call_states(self, node: str) -> list[OpenCallState]:
        # Resync needs the truth; with no database it fails and ARI retries the connection.
        for call_id in [*self._unwritten_calls, *self._rows_in_flight]:
            await self._write_call_row(call_id)
        return await self._db(self.repo.open_call_states(node))

    # -- writes ------------------------------------------------------------------------------

    async def claim(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                    channel_id: str | None, *, now: datetime, node: str) -> bool:
        waiting = self._unwritten_calls.pop(call_id, None)
        if waiting is None:
            await self._row_written(call_id)  # the attempt refers to the call's row
        elif not self._journaling:
            # The call's row and its first claim in one round trip (one before the INVITE).
            with self._row_in_flight(call_id):
                try:
                    claimed = await self._db(self.repo.start_call_and_claim(
                        **waiting[1], member_id=member_id, attempt_id=attempt_id,
                        attempt_channel_id=channel_id, claimed_at=now))
                except Exception as exc:
                    if not _unreachable(exc):
                        raise
                    self._mark_down(exc)
                    async with self._lock:  # the row first, so the replay finds the call
                        self.journal.append(JournalOp.START_CALL, **waiting[1])
                else:
                    if claimed:
                        self._local_busy[member_id] = attempt_id
                        self._local_attempts[attempt_id] = (member_id, call_id)
                    return claimed
        else:
            self._unwritten_calls[call_id] = waiting
            await self._write_call_row(call_id)
        if not self._journaling:
            # The healthy path takes no lock: the database orders concurrent claims itself.
            try:
                claimed = await self._db(self.repo.claim(call_id, member_id, attempt_id, channel_id,
                                                         now=now, node=node))
            except Exception as exc:
                if not _unreachable(exc):
                    raise
                self._mark_down(exc)
            else:
                if claimed:
                    # Remembered so that, should the database go, this member counts as busy.
                    self._local_busy[member_id] = attempt_id
                    self._local_attempts[attempt_id] = (member_id, call_id)
                return claimed
        async with self._lock:
            if not self._journaling and self.database_ok:
                # The replay emptied the journal while this claim waited for it.
                return await self._claim_after_replay(call_id, member_id, attempt_id, channel_id,
                                                      now=now, node=node)
            return self._claim_locally(call_id, member_id, attempt_id, channel_id, now=now, node=node)

    async def _claim_after_replay(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                                  channel_id: str | None, *, now: datetime, node: str) -> bool:
        with self._tolerating_outage():
            claimed = await self._db(self.repo.claim(call_id, member_id, attempt_id, channel_id,
                                                     now=now, node=node))
            if claimed:
                self._local_busy[member_id] = attempt_id
                self._local_attempts[attempt_id] = (member_id, call_id)
            return claimed
        return self._claim_locally(call_id, member_id, attempt_id, channel_id, now=now, node=node)

    def _claim_locally(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                       channel_id: str | None, *, now: datetime, node: str) -> bool:
        """Decide the claim on this node's own knowledge and journal it (caller holds the lock)."""
        if member_id in self._local_busy:
            return False
        self.journal.append(JournalOp.CLAIM, call_id=call_id, member_id=member_id, attempt_id=attempt_id,
                            channel_id=channel_id, now=now, node=node)
        self._local_busy[member_id] = attempt_id
        self._local_attempts[attempt_id] = (member_id, call_id)
        return True

    async def attempt_answered(self, attempt_id: uuid.UUID, *, now: datetime) -> None:
        await self._write(JournalOp.ATTEMPT_ANSWERED, self.repo.attempt_answered, attempt_id=attempt_id, now=now)

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        await self._write(JournalOp.ATTEMPT_ENDED, self.repo.attempt_ended, attempt_id=attempt_id,
                          result=str(result), now=now)
        self._release(attempt_id)

    async def start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                         caller_number: str | None, dialled_number: str | None,
                         channel_id: str | None, node: str, now: datetime) -> None:
        args = {"call_id": call_id, "tenant_id": tenant_id, "team_id": team_id, "caller_number": caller_number,
                "dialled_number": dialled_number, "channel_id": channel_id, "node": node, "now": now}
        if self._journaling:
            await self._write(JournalOp.START_CALL, self.repo.start_call, **args)
            return
        # Written with the call's first claim (or by the run loop, or before any other write
        # of the call, whichever comes first): no round trip of its own before the INVITE.
        self._unwritten_calls[call_id] = (self._monotonic(), args)

    async def write_call_row(self, call_id: uuid.UUID) -> None:
        await self._write_call_row(call_id)

    async def call_answered(self, call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> None:
        await self._write_call_row(call_id)
        await self._write(JournalOp.CALL_ANSWERED, self.repo.call_answered, call_id=call_id,
                          member_id=member_id, now=now)

    async def finish_call(self, call_id: uuid.UUID, outcome: CallOutcome, *, now: datetime,
                          wait_seconds: float | None, talk_seconds: float | None) -> None:
        await self._write_call_row(call_id)
        await self._write(JournalOp.FINISH_CALL, self.repo.finish_call, call_id=call_id, outcome=str(outcome),
                          now=now, wait_seconds=wait_seconds, talk_seconds=talk_seconds)
        for attempt_id, (_, owner) in list(self._local_attempts.items()):
            if owner == call_id:
                self._release(attempt_id)

    async def save_rr_position(self, team_id: uuid.UUID, pos: int | None) -> None:
        await self._write(JournalOp.SAVE_RR_POSITION, self.repo.save_rr_position, team_id=team_id, pos=pos)

    # -- internals ---------------------------------------------------------------------------

    @property
    def _journaling(self) -> bool:
        return len(self.journal) > 0

    @contextlib.contextmanager
    def _tolerating_outage(self) -> Iterator[None]:
        """An unreachable database is noted and swallowed (the caller goes on after the block); any other error propagates."""
        try:
            yield
        except Exception as exc:
            if not _unreachable(exc):
                raise
            self._mark_down(exc)

    async def _db(self, aw: Awaitable[T]) -> T:
        async with asyncio.timeout(self.statement_timeout):
            result = await aw
        self._mark_up()
        return result

    async def _read(self, cache: dict[K, tuple[float, T]], key: K, fetch: Callable[[], Awaitable[T]],
                    max_age: float | None) -> T:
        with self._tolerating_outage():
            value = await self._db(fetch())
            cache[key] = (self._monotonic(), value)
            return value
        return self._fresh(cache, key, "value", max_age)

    def _fresh(self, cache: dict[K, tuple[float, T]], key: K, what: str, max_age: float | None) -> T:
        hit = cache.get(key)
        if hit is None:
            raise DatabaseUnavailable(f"database unreachable and no {what} known")
        if max_age is not None and self._monotonic() - hit[0] > max_age:
            raise DatabaseUnavailable(f"database unreachable and the last {what} is older than {max_age} s")
        return hit[1]

    async def _write(self, op: JournalOp, method: Callable[..., Awaitable[None]], **args: Any) -> None:
        if not self._journaling:
            # The healthy path takes no lock: nothing is waiting to be replayed that this write
            # could overtake (a call's writes are awaited one after another, so an earlier write
            # of the same call in the journal would have made the journal non-empty here).
            try:
                await self._db(method(**args))
                return
            except Exception as exc:
                if not _unreachable(exc):
                    raise
                self._mark_down(exc)
        # The journal holds writes (or this one just failed): order it after them. Appends
        # and the replay share the lock, so an entry never lands between the replay's read of
        # the journal and its clearing.
        async with self._lock:
            if not self._journaling and self.database_ok:
                # The replay emptied the journal while this write waited for it.
                with self._tolerating_outage():
                    await self._db(method(**args))
                    return
            self.journal.append(op, **args)

    def _release(self, attempt_id: uuid.UUID) -> None:
        owner = self._local_attempts.pop(attempt_id, None)
        if owner is not None and self._local_busy.get(owner[0]) == attempt_id:
            del self._local_busy[owner[0]]

    def _mark_down(self, exc: BaseException) -> None:
        if self.database_ok:
            log.error("database_unreachable", error=repr(exc)[:300], journal=len(self.journal))
        self.database_ok = False

    def _mark_up(self) -> None:
        if not self.database_ok:
            log.warning("database_reachable_again", journal=len(self.journal))
        self.database_ok = True

"""What the routing daemon reads and writes: few, indexed statements; a lost claim is `False`, never an error.

A method of one statement runs it on an autocommit connection: one round trip,
no BEGIN/COMMIT around it (the statement is atomic by itself). Only a method of
several statements that must land together opens a transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.sql.dml import UpdateBase

from teamfoned.domain.availability import AvailabilityReason
from teamfoned.domain.errors import Invalid
from teamfoned.domain.names import canonical_number
from teamfoned.domain.phones import PhoneKind
from teamfoned.domain.timetable import stored_periods
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import (
    ORPHAN_ATTEMPT_RESULT,
    UNANSWERED_RESULTS,
    AttemptResult,
    CallOutcome,
    Candidate,
    LineView,
    OpenAttempt,
    OpenCallState,
    TeamRoute,
)
from teamfoned.routing.strategies import Strategy
from teamfoned.store.engine import changed_rows, create_sessionmaker, ping
from teamfoned.store.outbox import CALL_EVENT_COLUMNS, queue_call_events
from teamfoned.store.routing_directory import ROUTE_COLUMNS, RoutingDirectory, route_from_row
from teamfoned.store.tables import (
    attempts,
    availability,
    calls,
    members,
    memberships,
    sip_endpoints,
    team_holidays,
    team_hours,
    team_numbers,
    teams,
    waiting_entries,
    webhooks,
)
from teamfoned.store.types import UTCDateTime
from teamfoned.store.waiting_repo import LINE_VIEW, LINE_VIEW_EXCEPT

# fewest_calls counts answered calls in this window.
STATISTICS_WINDOW = timedelta(hours=24)


# A member's SIP endpoint is dialled only while it is assigned to the member's own tenant.
_ENDPOINT_ASSIGNED = exists().where(sip_endpoints.c.name == members.c.phone,
                                    sip_endpoints.c.tenant_id == members.c.tenant_id)

# The call path's statements are built once, here, with bound parameters, and reused by every
# call: building a statement per call (its expressions, then its cache key to find the compiled
# form) was a fifth of the daemon's CPU per call in the profile (docs/benchmarks.md). A reused
# statement object keeps its cache key, so each execution goes straight to the compiled SQL.

def _candidates_statement() -> Select[Any]:
    member = memberships.c.member_id
    open_attempt = exists().where(attempts.c.member_id == member, attempts.c.ended_at.is_(None))
    idle_since = (
        select(func.max(attempts.c.ended_at))
        .where(attempts.c.member_id == member, attempts.c.answered_at.is_not(None))
        .scalar_subquery()
    )
    calls_taken = (
        select(func.count())
        .select_from(attempts)
        .where(attempts.c.member_id == member, attempts.c.answered_at >= bindparam("since"))
        .scalar_subquery()
    )
    return (
        select(
            member,
            memberships.c.priority,
            memberships.c.tier,
            idle_since.label("idle_since"),
            calls_taken.label("calls_taken"),
            teams.c.wrap_up_s,
            members.c.phone_kind,
            members.c.phone,
            _ENDPOINT_ASSIGNED.label("endpoint_assigned"),
        )
        .join(teams, teams.c.id == memberships.c.team_id)
        .join(members, members.c.id == member)
        .join(availability, availability.c.member_id == member)
        .where(
            memberships.c.team_id == bindparam("team_id"),
            availability.c.available.is_(True),
            or_(availability.c.until.is_(None), availability.c.until > bindparam("now")),
            ~open_attempt,
        )
        # Tier first: the first candidates in this order are left to the callers ahead.
        .order_by(memberships.c.tier, memberships.c.priority, member)
    )


_CANDIDATES = _candidates_statement()
# The same, without the members this call has tried (an expanding list: its length varies).
_CANDIDATES_EXCEPT = _CANDIDATES.where(memberships.c.member_id.not_in(bindparam("excluded", expanding=True)))

def _in_line(line_view: Select[Any]) -> Select[Any]:
    """The candidates with the team's line as the call sees it, in one statement: the line's
    one row, left-joined to the candidates (so it comes back when nobody is free)."""
    line = line_view.subquery("line")
    found = _CANDIDATES.order_by(None).subquery("found")
    return (select(line.c.ahead, line.c.available, line.c.first_tier, *found.c)
            .select_from(line.outerjoin(found, true()))
            .order_by(found.c.tier, found.c.priority, found.c.member_id))


_CANDIDATES_IN_LINE = _in_line(LINE_VIEW)
_CANDIDATES_IN_LINE_EXCEPT = _in_line(LINE_VIEW_EXCEPT)

_ATTEMPT_COLUMNS = ["id", "call_id", "tenant_id", "member_id", "channel_id", "node", "started_at"]


def _attempt_values(call_columns: list[Any]) -> list[Any]:
    """The select list of a claim: the attempt's bound values around the call's id and tenant."""
    return [
        bindparam("attempt_id", type_=attempts.c.id.type), *call_columns,
        bindparam("member_id", type_=attempts.c.member_id.type),
        bindparam("attempt_channel_id", type_=attempts.c.channel_id.type),
        bindparam("node", type_=attempts.c.node.type),
        bindparam("claimed_at", type_=attempts.c.started_at.type),
    ]


# The tenant is copied from the call in the same statement; no call row: no row inserted.
_CLAIM = insert(attempts).from_select(
    _ATTEMPT_COLUMNS,
    select(*_attempt_values([calls.c.id, calls.c.tenant_id])).where(calls.c.id == bindparam("call_id")),
).returning(attempts.c.id)

_CALL_VALUES = {name: bindparam(name, type_=calls.c[name].type) for name in (
    "id", "tenant_id", "team_id", "caller_number", "dialled_number", "channel_id", "node", "started_at")}
_START_CALL = insert(calls).values(_CALL_VALUES)
# PostgreSQL: the call row, then its first attempt selected from it, in one statement.
_NEW_CALL = insert(calls).values(_CALL_VALUES).returning(calls.c.id, calls.c.tenant_id).cte("new_call")
_START_CALL_AND_CLAIM = insert(attempts).from_select(
    _ATTEMPT_COLUMNS, select(*_attempt_values([_NEW_CALL.c.id, _NEW_CALL.c.tenant_id])),
).returning(attempts.c.id)

_ATTEMPT_ANSWERED = (
    update(attempts)
    .where(attempts.c.id == bindparam("attempt_id"), attempts.c.answered_at.is_(None),
           attempts.c.ended_at.is_(None))
    .values(answered_at=bindparam("now", type_=attempts.c.answered_at.type))
)
_ATTEMPT_ENDED = (
    update(attempts)
    .where(attempts.c.id == bindparam("attempt_id"), attempts.c.ended_at.is_(None))
    .values(ended_at=bindparam("now", type_=attempts.c.ended_at.type),
            result=bindparam("result", type_=attempts.c.result.type))
)
_CALL_ANSWERED = (
    update(calls)
    .where(calls.c.id == bindparam("call_id"), calls.c.answered_at.is_(None))
    .values(answered_at=bindparam("now", type_=calls.c.answered_at.type),
            answered_by=bindparam("member_id", type_=calls.c.answered_by.type))
)


def _candidates_from(rows: Iterable[Any], now: datetime) -> list[tuple[Candidate, tuple[str, str] | None]]:
    """Candidate rows (the candidates' statement's columns) less members in wrap-up."""
    result = []
    normalise = UTCDateTime().process_result_value
    for member_id, priority, tier, idle, taken, wrap_up_s, phone_kind, phone, assigned in rows:
        # max() over a column loses the column type on some drivers: normalise here.
        if isinstance(idle, str):
            idle = datetime.fromisoformat(idle)
        # The dialect only matters when writing; reading back ignores it.
        idle = normalise(idle, None) if idle is not None else None  # type: ignore[arg-type]
        if idle is not None and idle > now - timedelta(seconds=wrap_up_s):
            continue  # in wrap-up
        result.append((
            Candidate(member_id=member_id, priority=priority, idle_since=idle,
                      calls_taken=int(taken), external=phone_kind == PhoneKind.E164, tier=tier),
            _dialable(phone_kind, phone, assigned),
        ))
    return result


def _dialable(phone_kind: str, phone: str, endpoint_assigned: bool) -> tuple[str, str] | None:
    if phone_kind == PhoneKind.SIP and not endpoint_assigned:
        return None
    return (phone_kind, phone)


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        return bool(sqlstate == "23505")
    return "UNIQUE constraint failed" in str(orig)  # sqlite3


class RoutingRepository:
    """The routing daemon's view of the store. Every method is one statement, or one short transaction."""

    def __init__(self, engine_or_sessionmaker: AsyncEngine | async_sessionmaker[AsyncSession], *,
                 default_region: str | None = None, directory: RoutingDirectory | None = None):
        # Reads a dialled number in national format, as the admin tools read team numbers.
        self.default_region = default_region
        if isinstance(engine_or_sessionmaker, AsyncEngine):
            engine = engine_or_sessionmaker
            self._sessions = create_sessionmaker(engine)
        else:
            self._sessions = engine_or_sessionmaker
            engine = self._sessions.kw["bind"]
        # Numbers, teams' settings and hours from memory (the daemon's); None: read each time.
        self._directory = directory
        # Same pool, autocommit connections: a single statement needs no transaction around it.
        self._auto = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def _one(self, stmt: Executable, params: dict[str, Any] | None = None) -> Any:
        """Run one statement on an autocommit connection; its rows, fetched."""
        async with self._auto.connect() as conn:
            result = await conn.execute(stmt, params)
            return result.all() if result.returns_rows else None

    # -- reads -----------------------------------------------------------------------------

    async def team_for_number(self, number: str) -> TeamRoute | None:
        """The team of the dialled number, in whatever form Asterisk hands it over ("31...",
        "+31...", "0031..."): one exact lookup of its canonical form, as every writer stores it."""
        try:
            canonical = canonical_number(number, default_region=self.default_region)
        except Invalid:
            return None  # no team number looks like this
        if self._directory is not None:
            route = await self._directory.route(canonical)
            if route is not None and route.strategy == Strategy.ROUND_ROBIN:
                # Changes with every round-robin call, on any node: never served from memory.
                rows = await self._one(select(teams.c.rr_position).where(teams.c.id == route.team_id))
                route = replace(route, rr_position=rows[0][0]) if rows else route
            return route
        rows = await self._one(select(*ROUTE_COLUMNS).join(team_numbers, team_numbers.c.team_id == teams.c.id)
                               .where(team_numbers.c.number == canonical))
        return route_from_row(rows[0]) if rows else None

    async def team_number(self, tenant_id: uuid.UUID, team_name: str) -> str | None:
        """A number of the named team in the tenant (for overflow): the lowest, for stability."""
        if self._directory is not None:
            return await self._directory.team_number(tenant_id, team_name)
        stmt = (
            select(team_numbers.c.number)
            .join(teams, team_numbers.c.team_id == teams.c.id)
            .where(teams.c.tenant_id == tenant_id, teams.c.name == team_name)
            .order_by(team_numbers.c.number)
            .limit(1)
        )
        rows = await self._one(stmt)
        return rows[0][0] if rows else None

    async def opening_hours(
        self, team_id: uuid.UUID, around: date
    ) -> tuple[list[WeeklyPeriod], set[date]]:
        """The team's weekly opening periods and its holidays near `around` (a local date)."""
        if self._directory is not None:
            return await self._directory.opening_hours(team_id, around)
        # One statement for both (a round trip before the member's INVITE): period rows carry
        # no day, holiday rows nothing but their day.
        near = team_holidays.c.day.between(around - timedelta(days=1), around + timedelta(days=1))
        stmt = union_all(
            select(team_hours.c.weekday, team_hours.c.opens, team_hours.c.closes,
                   literal(None, team_holidays.c.day.type).label("day"))
            .where(team_hours.c.team_id == team_id),
            select(literal(None, team_hours.c.weekday.type), literal(None, team_hours.c.opens.type),
                   literal(None, team_hours.c.closes.type), team_holidays.c.day)
            .where(team_holidays.c.team_id == team_id, near),
        )
        rows = await self._one(stmt)
        hours = [(weekday, opens, closes) for weekday, opens, closes, day in rows if day is None]
        days = [day for *_, day in rows if day is not None]
        return stored_periods(hours), set(days)

    async def mark_unavailable_after_misses(
        self, member_id: uuid.UUID, threshold: int, *, now: datetime
    ) -> bool:
        """Make the member unavailable if their last `threshold` attempts all went unanswered.

        The reason `auto` is shown to the member and the team; the member can undo it.
        Returns True when this call changed the member's availability.
        """
        recent = (
            select(attempts.c.result)
            .where(attempts.c.member_id == member_id, attempts.c.ended_at.is_not(None))
            .order_by(attempts.c.started_at.desc())
            .limit(threshold)
        )
        async with self._sessions() as session, session.begin():
            results = (await session.execute(recent)).scalars().all()
            if len(results) < threshold or any(r not in UNANSWERED_RESULTS for r in results):
                return False
            done = await changed_rows(session, (
                update(availability)
                .where(availability.c.member_id == member_id, availability.c.available.is_(True))
                .values(available=False, until=None, changed_at=now, reason=AvailabilityReason.AUTO.value)
            ))
        return done > 0

    async def candidates(
        self, team_id: uuid.UUID, *, now: datetime, exclude: Iterable[uuid.UUID] = ()
    ) -> list[Candidate]:
        """Members of the team who could be rung now, in priority order (see `candidates_with_phones`)."""
        return [candidate for candidate, _ in await self.candidates_with_phones(team_id, now=now, exclude=exclude)]

    async def candidates_with_phones(
        self, team_id: uuid.UUID, *, now: datetime, exclude: Iterable[uuid.UUID] = ()
    ) -> list[tuple[Candidate, tuple[str, str] | None]]:
        """Members of the team who could be rung now, in tier and priority order, each with what
        `member_phone` would return for them: everything needed to dial, in one statement.

        Available (no expiry, or expiry after `now`), no open attempt anywhere, not excluded;
        idle_since and calls_taken come from correlated index probes. Wrap-up is idle_since
        within the team's wrap-up time, filtered here on the fetched value.
        """
        excluded = list(exclude)
        params: dict[str, Any] = {"team_id": team_id, "now": now, "since": now - STATISTICS_WINDOW}
        if excluded:
            params["excluded"] = excluded
        rows = await self._one(_CANDIDATES_EXCEPT if excluded else _CANDIDATES, params)
        return _candidates_from(rows, now)

    async def candidates_with_phones_in_line(
        self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime, now: datetime,
        exclude: Iterable[uuid.UUID] = (),
    ) -> tuple[list[tuple[Candidate, tuple[str, str] | None]], LineView]:
        """`candidates_with_phones` (all of them: `exclude` is not applied to these) and the
        team's line as `waiting_repo.line_view` reads it for this call (`exclude` applied),
        in one statement: the one read before a member's INVITE besides the claim."""
        excluded = list(exclude)
        params: dict[str, Any] = {"team_id": team_id, "now": now, "since": now - STATISTICS_WINDOW,
                                  "call_id": call_id, "arrived_at": arrived_at}
        if excluded:
            params["excluded"] = excluded
        rows = await self._one(_CANDIDATES_IN_LINE_EXCEPT if excluded else _CANDIDATES_IN_LINE, params)
        ahead, available, first_tier = rows[0][:3]
        line = LineView(ahead=int(ahead), available=int(available),
                        first_tier=None if first_tier is None else int(first_tier))
        # Nobody free: the line's row alone, its candidate columns NULL.
        return _candidates_from([row[3:] for row in rows if row[3] is not None], now), line

    async def candidates_in_line(
        self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime, now: datetime,
        exclude: Iterable[uuid.UUID] = (),
    ) -> tuple[list[Candidate], LineView]:
        excluded = set(exclude)
        found, line = await self.candidates_with_phones_in_line(
            team_id, call_id, arrived_at=arrived_at, now=now, exclude=excluded)
        return [c for c, _ in found if c.member_id not in excluded], line

    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str] | None:
        """(phone_kind, phone) of a member, for building the dial string.

        None if the member is gone, or their phone is a SIP endpoint not assigned to their
        tenant (a row written by hand, or an endpoint released since): that is never dialled.
        """
        stmt = select(members.c.phone_kind, members.c.phone, _ENDPOINT_ASSIGNED).where(
            members.c.id == member_id)
        rows = await self._one(stmt)
        return _dialable(*rows[0]) if rows else None

    async def open_call_states(self, node: str) -> list[OpenCallState]:
        """Open calls of `node` with their open attempts, for adoption after a restart."""
        # A callback request is an open call whose line entry says the caller asked for one.
        pending = and_(waiting_entries.c.callback_requested_at.is_not(None),
                       waiting_entries.c.left_at.is_(None))
        open_call = (
            select(calls.c.id, calls.c.tenant_id, calls.c.team_id, calls.c.channel_id,
                   calls.c.dialled_number, calls.c.started_at, calls.c.answered_at,
                   calls.c.caller_number,
                   case((pending, waiting_entries.c.callback_tries), else_=None))
            .outerjoin(waiting_entries, waiting_entries.c.call_id == calls.c.id)
            .where(calls.c.node == node, calls.c.outcome.is_(None)).order_by(calls.c.started_at))
        async with self._sessions() as session:
            call_rows = (await session.execute(open_call)).all()
            ids = [row[0] for row in call_rows]
            open_attempts = (
                select(attempts.c.call_id, attempts.c.id, attempts.c.member_id,
                       attempts.c.channel_id, attempts.c.answered_at)
                .where(attempts.c.call_id.in_(ids), attempts.c.ended_at.is_(None))
                .order_by(attempts.c.started_at)
            )
            attempt_rows = (await session.execute(open_attempts)).all() if ids else []
        by_call: dict[uuid.UUID, list[OpenAttempt]] = {}
        for call_id, attempt_id, member_id, channel_id, answered_at in attempt_rows:
            by_call.setdefault(call_id, []).append(
                OpenAttempt(attempt_id, member_id, channel_id, answered_at))
        return [OpenCallState(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                              tuple(by_call.get(row[0], ())), caller_number=row[7],
                              callback_tries=row[8]) for row in call_rows]

    # -- attempts --------------------------------------------------------------------------

    async def claim(
        self,
        call_id: uuid.UUID,
        member_id: uuid.UUID,
        attempt_id: uuid.UUID,
        channel_id: str | None,
        *,
        now: datetime,
        node: str,
    ) -> bool:
        """Book the member for this call by inserting their open attempt.

        The partial unique index on open attempts decides races, across every daemon sharing
        the database: the loser gets `False`. The tenant is copied from the call in the same
        statement.
        """
        try:
            inserted = await self._one(_CLAIM, {
                "call_id": call_id, "attempt_id": attempt_id, "member_id": member_id,
                "attempt_channel_id": channel_id, "node": node, "claimed_at": now})
        except IntegrityError as exc:
            if _is_unique_violation(exc):
                return False
            raise
        # No row: the call does not exist, so there is nothing to book the member for.
        return bool(inserted)

    async def start_call_and_claim(
        self,
        call_id: uuid.UUID,
        tenant_id: uuid.UUID,
        team_id: uuid.UUID,
        *,
        caller_number: str | None,
        dialled_number: str | None,
        channel_id: str | None,
        node: str,
        now: datetime,
        member_id: uuid.UUID,
        attempt_id: uuid.UUID,
        attempt_channel_id: str | None,
        claimed_at: datetime,
    ) -> bool:
        """`start_call` and the call's first `claim` in one round trip where the database allows
        it; the call is recorded whether or not the claim is won."""
        if self._auto.dialect.name != "postgresql":
            # SQLite has no INSERT inside WITH; its round trips stay in the process anyway.
            await self.start_call(call_id, tenant_id, team_id, caller_number=caller_number,
                                  dialled_number=dialled_number, channel_id=channel_id, node=node, now=now)
            return await self.claim(call_id, member_id, attempt_id, attempt_channel_id, now=claimed_at, node=node)
        try:
            return bool(await self._one(_START_CALL_AND_CLAIM, {
                "id": call_id, "tenant_id": tenant_id, "team_id": team_id,
                "caller_number": caller_number, "dialled_number": dialled_number,
                "channel_id": channel_id, "node": node, "started_at": now,
                "attempt_id": attempt_id, "member_id": member_id,
                "attempt_channel_id": attempt_channel_id, "claimed_at": claimed_at}))
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                raise
        # The member was booked elsewhere: the statement (call row too) was undone; the call
        # is recorded on its own.
        await self.start_call(call_id, tenant_id, team_id, caller_number=caller_number,
                              dialled_number=dialled_number, channel_id=channel_id, node=node, now=now)
        return False

    async def attempt_answered(self, attempt_id: uuid.UUID, *, now: datetime) -> None:
        await self._one(_ATTEMPT_ANSWERED, {"attempt_id": attempt_id, "now": now})

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        """Close the attempt and release the member; a second call changes nothing."""
        await self._one(_ATTEMPT_ENDED, {"attempt_id": attempt_id, "now": now, "result": str(result)})

    # -- calls -----------------------------------------------------------------------------

    async def write_call_row(self, call_id: uuid.UUID) -> None:
        """Nothing to do: start_call wrote the row already (only the resilient repository
        holds it back for the first claim)."""

    async def start_call(
        self,
        call_id: uuid.UUID,
        tenant_id: uuid.UUID,
        team_id: uuid.UUID,
        *,
        caller_number: str | None,
        dialled_number: str | None,
        channel_id: str | None,
        node: str,
        now: datetime,
    ) -> None:
        await self._one(_START_CALL, {
            "id": call_id, "tenant_id": tenant_id, "team_id": team_id, "caller_number": caller_number,
            "dialled_number": dialled_number, "channel_id": channel_id, "node": node, "started_at": now})

    async def call_answered(self, call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> None:
        await self._one(_CALL_ANSWERED, {"call_id": call_id, "now": now, "member_id": member_id})

    async def finish_call(
        self,
        call_id: uuid.UUID,
        outcome: CallOutcome,
        *,
        now: datetime,
        wait_seconds: float | None,
        talk_seconds: float | None,
    ) -> None:
        """Record the call's outcome once, close any attempt of it still open, and queue its
        webhook events: one transaction, so the events exist exactly when the record does.

        On PostgreSQL one statement closes both and reads back the call with its tenant's
        webhooks (the outbox's payload), a second queues the events, if a webhook wants any.
        SQLite has no UPDATE inside WITH: the same in at most four statements, in this process.
        """
        close_attempts = (
            update(attempts)
            .where(attempts.c.call_id == call_id, attempts.c.ended_at.is_(None))
            .values(ended_at=now, result=ORPHAN_ATTEMPT_RESULT)
        )
        close_call = (
            update(calls)
            .where(calls.c.id == call_id, calls.c.outcome.is_(None))
            .values(outcome=str(outcome), ended_at=now, wait_seconds=wait_seconds,
                    talk_seconds=talk_seconds)
            .returning(*CALL_EVENT_COLUMNS)
        )
        async with self._sessions() as session, session.begin():
            if self._auto.dialect.name == "postgresql":
                # Every data-modifying WITH runs, referred to or not; no row: closed already.
                closed = close_call.cte("closed")
                rows = (await session.execute(
                    select(closed, webhooks.c.id.label("hook_id"), webhooks.c.events.label("hook_events"))
                    .select_from(closed.outerjoin(webhooks, webhooks.c.tenant_id == closed.c.tenant_id))
                    .add_cte(close_attempts.returning(attempts.c.id).cte("ended"))
                )).all()
                call = rows[0] if rows else None
                hooks = [(row.hook_id, row.hook_events) for row in rows if row.hook_id is not None]
            else:
                await session.execute(close_attempts)
                call = (await session.execute(close_call)).first()
                hooks = [] if call is None else [(hook_id, events) for hook_id, events in (
                    await session.execute(select(webhooks.c.id, webhooks.c.events)
                                          .where(webhooks.c.tenant_id == call.tenant_id))).all()]
            if call is not None:
                await queue_call_events(session, call, hooks, now=now)

    async def ping(self) -> None:
        """One round trip to the database (for the outage detector)."""
        await ping(self._sessions)

    # -- journal replay (idempotent: a row already there is left as it is) ---------------------

    async def replay_start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                                caller_number: str | None, dialled_number: str | None,
                                channel_id: str | None, node: str, now: datetime) -> bool:
        """`start_call` unless the call is already recorded; True if it inserted."""
        async with self._sessions() as session, session.begin():
            if (await session.execute(select(calls.c.id).where(calls.c.id == call_id))).first():
                return False
            await session.execute(insert(calls).values(
                id=call_id, tenant_id=tenant_id, team_id=team_id, caller_number=caller_number,
                dialled_number=dialled_number, channel_id=channel_id, node=node, started_at=now))
        return True

    async def replay_attempt(self, attempt_id: uuid.UUID, call_id: uuid.UUID, member_id: uuid.UUID,
                             channel_id: str | None, *, node: str, started_at: datetime,
                             answered_at: datetime | None, ended_at: datetime | None,
                             result: str | None) -> bool:
        """Insert an attempt recorded while the database was away, in its final known state.

        True if it inserted; False if it was there already. Raises IntegrityError if it is still
        open and its member has another open attempt (the caller retries later).
        """
        async with self._sessions() as session, session.begin():
            if (await session.execute(select(attempts.c.id).where(attempts.c.id == attempt_id))).first():
                return False
            tenant = (await session.execute(
                select(calls.c.tenant_id).where(calls.c.id == call_id))).scalar_one_or_none()
            if tenant is None:
                return False
            await session.execute(insert(attempts).values(
                id=attempt_id, call_id=call_id, tenant_id=tenant, member_id=member_id,
                channel_id=channel_id, node=node, started_at=started_at, answered_at=answered_at,
                ended_at=ended_at, result=result))
        return True

    async def save_rr_position(self, team_id: uuid.UUID, pos: int | None) -> None:
        await self._write(update(teams).where(teams.c.id == team_id).values(rr_position=pos))

    async def _write(self, stmt: UpdateBase) -> None:
        await self._one(stmt)

"""The unit tests' stores: each subclasses the daemon's store contract (telephony.ports.RoutingStore), so mypy holds them to it."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, final

from sqlalchemy.exc import OperationalError

from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import AttemptResult, CallOutcome, Candidate, LineView, OpenCallState, TeamRoute
from teamfoned.telephony.ports import RoutingStore

PHONE = ("e164", "+31610000001")


class FakeStore(RoutingStore):
    """A store that knows no team, offers nobody and keeps nothing; every claim succeeds.

    Tests subclass it and override what they watch, with the contract's exact signatures
    (mypy checks each override); the subclasses are final, so a method missing here is an error.
    """

    async def team_for_number(self, number: str) -> TeamRoute | None:
        return None

    async def team_number(self, tenant_id: uuid.UUID, team_name: str) -> str | None:
        return None

    async def opening_hours(self, team_id: uuid.UUID, around: date) -> tuple[list[WeeklyPeriod], set[date]]:
        return [], set()

    async def candidates(self, team_id: uuid.UUID, *, now: datetime,
                         exclude: Iterable[uuid.UUID] = ()) -> list[Candidate]:
        return []

    async def candidates_in_line(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                                 now: datetime, exclude: Iterable[uuid.UUID] = ()
                                 ) -> tuple[list[Candidate], LineView]:
        # Nobody waits in a fake's line: the candidates as the subclass offers them.
        return await self.candidates(team_id, now=now, exclude=exclude), LineView()

    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str] | None:
        return PHONE

    async def open_call_states(self, node: str) -> list[OpenCallState]:
        return []

    async def write_call_row(self, call_id: uuid.UUID) -> None:
        pass  # start_call keeps the call at once

    async def start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                         caller_number: str | None, dialled_number: str | None,
                         channel_id: str | None, node: str, now: datetime) -> None:
        pass

    async def claim(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                    channel_id: str | None, *, now: datetime, node: str) -> bool:
        return True

    async def attempt_answered(self, attempt_id: uuid.UUID, *, now: datetime) -> None:
        pass

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        pass

    async def call_answered(self, call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> None:
        pass

    async def finish_call(self, call_id: uuid.UUID, outcome: CallOutcome, *, now: datetime,
                          wait_seconds: float | None, talk_seconds: float | None) -> None:
        pass

    async def save_rr_position(self, team_id: uuid.UUID, pos: int | None) -> None:
        pass

    async def mark_unavailable_after_misses(self, member_id: uuid.UUID, threshold: int, *,
                                            now: datetime) -> bool:
        return False


@final  # and so mypy refuses it if any method of the contract were left out
class CountingStore(FakeStore):
    """Offers the given members; counts each record write by kind and keeps the open attempts.

    `writes` keys: "start_call", "attempt_answered", "call_answered", "attempt_ended:<result>"
    (only for an attempt still open, as the real store closes one once), "finish:<outcome>".
    """

    def __init__(self, members: Iterable[Candidate] = ()) -> None:
        self.members = list(members)
        self.writes: Counter[str] = Counter()
        self.open_attempts: set[uuid.UUID] = set()

    async def candidates(self, team_id: uuid.UUID, *, now: datetime,
                         exclude: Iterable[uuid.UUID] = ()) -> list[Candidate]:
        excluded = set(exclude)
        return [c for c in self.members if c.member_id not in excluded]

    async def start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                         caller_number: str | None, dialled_number: str | None,
                         channel_id: str | None, node: str, now: datetime) -> None:
        self.writes["start_call"] += 1

    async def claim(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                    channel_id: str | None, *, now: datetime, node: str) -> bool:
        self.open_attempts.add(attempt_id)
        return True

    async def attempt_answered(self, attempt_id: uuid.UUID, *, now: datetime) -> None:
        self.writes["attempt_answered"] += 1

    async def call_answered(self, call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> None:
        self.writes["call_answered"] += 1

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        if attempt_id in self.open_attempts:
            self.open_attempts.discard(attempt_id)
            self.writes[f"attempt_ended:{result}"] += 1

    async def finish_call(self, call_id: uuid.UUID, outcome: CallOutcome, *, now: datetime,
                          wait_seconds: float | None, talk_seconds: float | None) -> None:
        self.writes[f"finish:{outcome}"] += 1


class DatabaseDown(Exception):
    """What the driver says when the database is away (wrapped in OperationalError, as SQLAlchemy does)."""


@final
class FlakyStore(FakeStore):
    """The database behind the resilient repository: records the writes the tests watch; raises OperationalError while `down`.

    Besides the contract it has what the resilient repository alone calls on the real
    `RoutingRepository`: `ping` and the idempotent replays.
    """

    def __init__(self, members: Iterable[Candidate] = ()) -> None:
        self.down = False
        self.writes: list[tuple[Any, ...]] = []
        self.members = list(members)

    def _check(self) -> None:
        if self.down:
            raise OperationalError("SELECT 1", {}, DatabaseDown("connection refused"))

    async def ping(self) -> None:
        self._check()

    async def candidates(self, team_id: uuid.UUID, *, now: datetime,
                         exclude: Iterable[uuid.UUID] = ()) -> list[Candidate]:
        self._check()
        return list(self.members)

    async def candidates_with_phones(self, team_id: uuid.UUID, *, now: datetime,
                                     exclude: Iterable[uuid.UUID] = ()) -> list[tuple[Candidate, tuple[str, str] | None]]:
        return [(c, PHONE) for c in await self.candidates(team_id, now=now, exclude=exclude)]

    async def candidates_with_phones_in_line(
            self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime, now: datetime,
            exclude: Iterable[uuid.UUID] = ()) -> tuple[list[tuple[Candidate, tuple[str, str] | None]], LineView]:
        return await self.candidates_with_phones(team_id, now=now), LineView()

    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str] | None:
        self._check()
        return PHONE

    async def claim(self, call_id: uuid.UUID, member_id: uuid.UUID, attempt_id: uuid.UUID,
                    channel_id: str | None, *, now: datetime, node: str) -> bool:
        self._check()
        self.writes.append(("claim", (call_id, member_id, attempt_id, channel_id)))
        return True

    async def finish_call(self, call_id: uuid.UUID, outcome: CallOutcome, *, now: datetime,
                          wait_seconds: float | None, talk_seconds: float | None) -> None:
        self._check()
        self.writes.append(("finish_call", call_id, outcome))

    async def start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                         caller_number: str | None, dialled_number: str | None,
                         channel_id: str | None, node: str, now: datetime) -> None:
        self._check()
        self.writes.append(("start_call", call_id))

    async def start_call_and_claim(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                                   caller_number: str | None, dialled_number: str | None,
                                   channel_id: str | None, node: str, now: datetime, member_id: uuid.UUID,
                                   attempt_id: uuid.UUID, attempt_channel_id: str | None,
                                   claimed_at: datetime) -> bool:
        self._check()
        self.writes.append(("start_call_and_claim", call_id, attempt_id))
        return True

    async def attempt_ended(self, attempt_id: uuid.UUID, result: AttemptResult, *, now: datetime) -> None:
        self._check()
        self.writes.append(("attempt_ended", attempt_id, result))

    async def replay_start_call(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                                caller_number: str | None, dialled_number: str | None,
                                channel_id: str | None, node: str, now: datetime) -> bool:
        self._check()
        if ("call", call_id) in self.writes:
            return False
        self.writes.append(("call", call_id))
        return True

    async def replay_attempt(self, attempt_id: uuid.UUID, call_id: uuid.UUID, member_id: uuid.UUID,
                             channel_id: str | None, *, node: str, started_at: datetime,
                             answered_at: datetime | None, ended_at: datetime | None,
                             result: str | None) -> bool:
        self._check()
        if ("attempt", attempt_id) in self.writes:
            return False
        self.writes.append(("attempt", attempt_id))
        return True

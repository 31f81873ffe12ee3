"""The local journal and the repository in front of it: entries survive as written, replay is in order and idempotent."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from teamfoned.routing.model import Candidate
from teamfoned.store.journal import Journal, default_journal_path
from teamfoned.store.resilient_repo import DatabaseUnavailable, ResilientRepository

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def test_entries_round_trip_with_their_types(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    call_id = uuid.uuid4()
    journal.append("finish_call", call_id=call_id, outcome="answered", now=NOW, wait_seconds=1.5,
                   talk_seconds=None)
    assert len(journal) == 1
    assert Journal(tmp_path / "j.jsonl").entries() == [
        ("finish_call", {"call_id": call_id, "outcome": "answered", "now": NOW, "wait_seconds": 1.5,
                         "talk_seconds": None})]


def test_a_torn_last_line_is_skipped_and_clear_empties(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append("save_rr_position", team_id=uuid.uuid4(), pos=3)
    with open(path, "a") as f:
        f.write('{"op": "finish_ca')  # a crash in the middle of a write
    assert [op for op, _ in Journal(path).entries()] == ["save_rr_position"]
    journal.clear()
    assert Journal(path).entries() == [] and len(journal) == 0


def test_default_path_beside_sqlite_else_state_directory(monkeypatch):
    assert str(default_journal_path("sqlite+aiosqlite:////var/db/t.db", "n1")) == "/var/db/journal-n1.jsonl"
    monkeypatch.setenv("STATE_DIRECTORY", "/srv/state")
    assert str(default_journal_path("postgresql+psycopg://db/t", "n1")) == "/srv/state/journal-n1.jsonl"


class Down(Exception):
    pass


class FlakyRepo:
    """Records what reaches 'the database'; raises OperationalError while down."""

    def __init__(self):
        self.down = False
        self.writes: list[tuple] = []
        self.members = [Candidate(uuid.UUID(int=i), i, None, 0) for i in (1, 2)]

    def _check(self):
        if self.down:
            raise OperationalError("SELECT 1", {}, Down("connection refused"))

    async def candidates(self, team_id, *, now, exclude=()):
        self._check()
        return list(self.members)

    async def member_phone(self, member_id):
        self._check()
        return ("e164", "+31610000001")

    async def claim(self, *args, **kwargs):
        self._check()
        self.writes.append(("claim", args))
        return True

    async def finish_call(self, call_id, outcome, **kwargs):
        self._check()
        self.writes.append(("finish_call", call_id, outcome))

    async def attempt_ended(self, attempt_id, result, **kwargs):
        self._check()
        self.writes.append(("attempt_ended", attempt_id, result))

    async def replay_attempt(self, attempt_id, *args, **kwargs):
        self._check()
        if ("attempt", attempt_id) in self.writes:
            return False
        self.writes.append(("attempt", attempt_id))
        return True


async def test_outage_routes_from_fresh_cache_then_journals_and_replays_once(tmp_path):
    clock = [0.0]
    flaky = FlakyRepo()
    repo = ResilientRepository(flaky, Journal(tmp_path / "j.jsonl"), stale_after=30,
                               monotonic=lambda: clock[0])
    team, call = uuid.uuid4(), uuid.uuid4()
    assert len(await repo.candidates(team, now=NOW)) == 2
    flaky.down = True
    attempt = uuid.uuid4()
    assert await repo.claim(call, flaky.members[0].member_id, attempt, "chan", now=NOW, node="n1")
    # The claimed member is busy here; the other one is still offered from memory.
    assert [c.member_id for c in await repo.candidates(team, now=NOW)] == [flaky.members[1].member_id]
    assert not await repo.claim(uuid.uuid4(), flaky.members[0].member_id, uuid.uuid4(), "c2", now=NOW, node="n1")
    await repo.attempt_ended(attempt, "answered", now=NOW)
    await repo.finish_call(call, "answered", now=NOW, wait_seconds=1.0, talk_seconds=2.0)
    assert repo.degraded and len(repo.journal) == 3 and flaky.writes == []
    clock[0] = 31.0
    with pytest.raises(DatabaseUnavailable):
        await repo.candidates(team, now=NOW)

    assert await repo.replay() == 0  # still down: kept
    flaky.down = False
    assert await repo.replay() == 3
    assert not repo.degraded
    assert flaky.writes == [("attempt", attempt), ("attempt_ended", attempt, "answered"),
                            ("finish_call", call, "answered")]
    assert await repo.replay() == 0  # nothing twice


async def test_run_replays_by_itself_and_stops_when_closing(tmp_path):
    flaky = FlakyRepo()
    repo = ResilientRepository(flaky, Journal(tmp_path / "j.jsonl"), retry_every=0.05)
    flaky.down = True
    await repo.finish_call(uuid.uuid4(), "fallback", now=NOW, wait_seconds=None, talk_seconds=None)
    closing = asyncio.Event()
    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        tg.create_task(repo.run(closing))
        await asyncio.sleep(0.1)
        flaky.down = False
        while repo.degraded:
            await asyncio.sleep(0.02)
        closing.set()
    assert len(flaky.writes) == 1

"""The local journal and the repository in front of it: entries survive as written, replay is in order and idempotent."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest

from teamfoned.routing.model import Candidate
from teamfoned.store.journal import Journal, JournalOp, default_journal_path
from teamfoned.store.resilient_repo import REPLAY, DatabaseUnavailable, ResilientRepository
from tests.fakes import FlakyStore

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


def test_every_operation_has_one_replay():
    assert set(REPLAY) == set(JournalOp)


async def test_a_journal_as_written_on_disk_replays_and_an_unknown_operation_is_skipped(tmp_path):
    # The file format is the contract with a journal left by an earlier version: plain op names.
    call, member, attempt, team = (uuid.UUID(int=i) for i in (10, 11, 12, 13))
    stamp = {"$time": NOW.isoformat()}
    lines = [
        {"op": "start_call", "args": {"call_id": {"$uuid": str(call)}, "tenant_id": {"$uuid": str(team)},
                                      "team_id": {"$uuid": str(team)}, "caller_number": None,
                                      "dialled_number": "100", "channel_id": "c", "node": "n1", "now": stamp}},
        {"op": "claim", "args": {"call_id": {"$uuid": str(call)}, "member_id": {"$uuid": str(member)},
                                 "attempt_id": {"$uuid": str(attempt)}, "channel_id": "m", "now": stamp,
                                 "node": "n1"}},
        {"op": "frobnicate", "args": {}},
        {"op": "attempt_ended", "args": {"attempt_id": {"$uuid": str(attempt)}, "result": "answered",
                                         "now": stamp}},
        {"op": "finish_call", "args": {"call_id": {"$uuid": str(call)}, "outcome": "answered", "now": stamp,
                                       "wait_seconds": 1.0, "talk_seconds": 2.0}},
    ]
    path = tmp_path / "j.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert [op for op, _ in Journal(path).entries()] == [
        JournalOp.START_CALL, JournalOp.CLAIM, JournalOp.ATTEMPT_ENDED, JournalOp.FINISH_CALL]
    flaky = FlakyStore(MEMBERS)
    repo = ResilientRepository(flaky, Journal(path))
    assert await repo.replay() == 4
    assert flaky.writes == [("call", call), ("attempt", attempt), ("attempt_ended", attempt, "answered"),
                            ("finish_call", call, "answered")]


def test_default_path_beside_sqlite_else_state_directory(monkeypatch):
    assert str(default_journal_path("sqlite+aiosqlite:////var/db/t.db", "n1")) == "/var/db/journal-n1.jsonl"
    monkeypatch.setenv("STATE_DIRECTORY", "/srv/state")
    assert str(default_journal_path("postgresql+psycopg://db/t", "n1")) == "/srv/state/journal-n1.jsonl"


MEMBERS = [Candidate(uuid.UUID(int=i), i, None, 0) for i in (1, 2)]


async def test_outage_routes_from_fresh_cache_then_journals_and_replays_once(tmp_path):
    clock = [0.0]
    flaky = FlakyStore(MEMBERS)
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
    flaky = FlakyStore(MEMBERS)
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


class GatedStore(FlakyStore):
    """A database whose writes wait at a gate while `hold` is set: shows what runs at the same time."""

    def __init__(self, members=()) -> None:
        super().__init__(members)
        self.hold = False
        self.gate = asyncio.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.arrived: list[tuple] = []  # every write as it reaches the database, before the gate

    async def _pass(self, what: tuple) -> None:
        self._check()
        self.arrived.append(what)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.hold:
                await self.gate.wait()
        finally:
            self.in_flight -= 1

    async def finish_call(self, call_id, outcome, *, now, wait_seconds, talk_seconds) -> None:
        await self._pass(("finish_call", call_id))
        await super().finish_call(call_id, outcome, now=now, wait_seconds=wait_seconds,
                                  talk_seconds=talk_seconds)

    async def claim(self, call_id, member_id, attempt_id, channel_id, *, now, node) -> bool:
        await self._pass(("claim", attempt_id))
        return await super().claim(call_id, member_id, attempt_id, channel_id, now=now, node=node)

    async def start_call(self, call_id, tenant_id, team_id, **args) -> None:
        await self._pass(("start_call", call_id))
        await super().start_call(call_id, tenant_id, team_id, **args)

    async def start_call_and_claim(self, call_id, tenant_id, team_id, **args) -> bool:
        await self._pass(("start_call_and_claim", call_id))
        return await super().start_call_and_claim(call_id, tenant_id, team_id, **args)


async def _until(predicate) -> None:
    async with asyncio.timeout(5):
        while not predicate():
            await asyncio.sleep(0)


async def test_healthy_writes_and_claims_run_side_by_side_without_queueing(tmp_path):
    store = GatedStore(MEMBERS)
    repo = ResilientRepository(store, Journal(tmp_path / "j.jsonl"))
    store.hold = True
    calls = [uuid.uuid4() for _ in range(3)]
    async with asyncio.TaskGroup() as tg:
        for call in calls:
            tg.create_task(repo.finish_call(call, "answered", now=NOW, wait_seconds=1.0, talk_seconds=1.0))
        tg.create_task(repo.claim(uuid.uuid4(), MEMBERS[0].member_id, uuid.uuid4(), "c", now=NOW, node="n1"))
        # All four reach the database while the first is still held there: none waits for another.
        await _until(lambda: store.in_flight == 4)
        store.gate.set()
    assert store.most_in_flight == 4 and len(repo.journal) == 0
    assert {w[1] for w in store.writes if w[0] == "finish_call"} == set(calls)


async def test_a_write_during_the_replay_waits_for_the_journal_and_lands_after_it(tmp_path):
    store = GatedStore(MEMBERS)
    repo = ResilientRepository(store, Journal(tmp_path / "j.jsonl"))
    store.down = True
    journalled = [uuid.uuid4() for _ in range(2)]
    for call in journalled:
        await repo.finish_call(call, "fallback", now=NOW, wait_seconds=None, talk_seconds=None)
    assert len(repo.journal) == 2 and store.arrived == []
    store.down, store.hold = False, True
    late_call, late_attempt = uuid.uuid4(), uuid.uuid4()
    async with asyncio.TaskGroup() as tg:
        replay = tg.create_task(repo.replay())
        await _until(lambda: store.in_flight == 1)  # the replay's first entry is held in the database
        late_finish = tg.create_task(repo.finish_call(late_call, "answered", now=NOW, wait_seconds=1.0,
                                                      talk_seconds=1.0))
        late_claim = tg.create_task(repo.claim(late_call, MEMBERS[1].member_id, late_attempt, "c",
                                               now=NOW, node="n1"))
        for _ in range(50):
            await asyncio.sleep(0)
        # Neither overtook the journal, and neither slipped into it behind the replay's back.
        assert store.arrived == [("finish_call", journalled[0])]
        assert len(repo.journal) == 2
        store.gate.set()
    assert replay.result() == 2 and late_claim.result() is True and late_finish.done()
    assert [w[1] for w in store.arrived[:2]] == journalled
    assert {w[1] for w in store.arrived[2:]} == {late_call, late_attempt}
    assert len(repo.journal) == 0 and not repo.degraded


async def _start(repo: ResilientRepository, call: uuid.UUID) -> None:
    await repo.start_call(call, uuid.uuid4(), uuid.uuid4(), caller_number=None, dialled_number="+31201234567",
                          channel_id="caller", node="n1", now=NOW)


async def test_the_call_row_goes_with_the_first_claim_or_before_any_other_write(tmp_path):
    clock = [0.0]
    flaky = FlakyStore(MEMBERS)
    repo = ResilientRepository(flaky, Journal(tmp_path / "j.jsonl"), monotonic=lambda: clock[0])
    claimed, unclaimed, closed = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await _start(repo, claimed)
    await _start(repo, unclaimed)
    await _start(repo, closed)
    assert flaky.writes == []  # no round trip of their own
    attempt = uuid.uuid4()
    assert await repo.claim(claimed, flaky.members[0].member_id, attempt, "leg", now=NOW, node="n1")
    await repo.finish_call(unclaimed, "no_one_available", now=NOW, wait_seconds=0.0, talk_seconds=None)
    assert flaky.writes == [("start_call_and_claim", claimed, attempt), ("start_call", unclaimed),
                            ("finish_call", unclaimed, "no_one_available")]
    # A call that claims nobody for a while (closed: its fallback may last) is written anyway.
    closing = asyncio.Event()
    clock[0] = 5.0
    closing.set()
    await repo.run(closing)
    assert flaky.writes[-1] == ("start_call", closed)


async def test_a_call_row_waiting_for_its_claim_is_journalled_first_when_the_database_is_away(tmp_path):
    flaky = FlakyStore(MEMBERS)
    repo = ResilientRepository(flaky, Journal(tmp_path / "j.jsonl"))
    call, attempt = uuid.uuid4(), uuid.uuid4()
    await _start(repo, call)
    flaky.down = True
    assert await repo.claim(call, flaky.members[0].member_id, attempt, "leg", now=NOW, node="n1")
    assert [op for op, _ in repo.journal.entries()] == [JournalOp.START_CALL, JournalOp.CLAIM]
    flaky.down = False
    assert await repo.replay() == 2
    assert flaky.writes == [("call", call), ("attempt", attempt)]


@pytest.mark.parametrize("first_writer", ["row_alone", "row_with_first_claim"])
async def test_a_calls_writes_wait_for_its_row_already_on_its_way(tmp_path, first_writer):
    # The row leaves the waiting list when its write starts, not when it commits: a write of the
    # same call meanwhile (the finish, a claim, the line's entry) must land after it.
    store = GatedStore(MEMBERS)
    repo = ResilientRepository(store, Journal(tmp_path / "j.jsonl"))
    call = uuid.uuid4()
    await _start(repo, call)
    store.hold = True
    async with asyncio.TaskGroup() as tg:
        if first_writer == "row_alone":  # the run loop's, or the line's before its entry
            tg.create_task(repo.write_call_row(call))
        else:
            tg.create_task(repo.claim(call, MEMBERS[0].member_id, uuid.uuid4(), "leg", now=NOW, node="n1"))
        await _until(lambda: store.in_flight == 1)
        later = uuid.uuid4()
        tg.create_task(repo.claim(call, MEMBERS[1].member_id, later, "leg2", now=NOW, node="n1"))
        tg.create_task(repo.finish_call(call, "answered", now=NOW, wait_seconds=1.0, talk_seconds=1.0))
        tg.create_task(repo.write_call_row(call))
        for _ in range(50):
            await asyncio.sleep(0)
        assert [what for what, _ in store.arrived] == [
            "start_call" if first_writer == "row_alone" else "start_call_and_claim"]
        store.gate.set()
    assert {what for what, _ in store.arrived[1:]} == {"claim", "finish_call"}
    assert len(store.arrived) == 3 and len(repo.journal) == 0

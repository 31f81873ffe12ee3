"""Mobile-safe routing with real SIP calls: team label, opening hours, holidays, auto-unavailable."""

from datetime import UTC, datetime, timedelta

import pytest

from teamfoned.store.tables import team_holidays, team_hours

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def test_member_phone_shows_caller_number_and_team_label(routing, carrier):
    await routing.setup(directory(available=("alice",)))
    await routing.update_team(label="Reception")
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER, caller_id="+31201234567", caller_name="Jan Jansen")
    alice = await carrier.wait_rung(PHONES["alice"])
    assert alice.caller_id_num == "+31201234567"
    assert alice.caller_id_name == "Reception: Jan Jansen"
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    await routing.wait_calls_finished(1)
    await routing.assert_clean()


def _period_excluding_now(now: datetime) -> dict:
    """An opening period today (UTC) that has already closed, or not opened yet."""
    if now.hour >= 2:
        return {"weekday": now.weekday(), "opens": "00:00", "closes": f"{now.hour - 1:02d}:00"}
    return {"weekday": now.weekday(), "opens": "22:00", "closes": "23:00"}


async def test_outside_opening_hours_the_closed_fallback_answers(routing, carrier):
    await routing.setup(directory())
    now = datetime.now(UTC)
    await routing.add_team_rows(team_hours, [_period_excluding_now(now)])
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the closed announcement to end")
    assert leg.answered and leg.connected_seconds > 1
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "closed" and call.attempts == []
    assert not carrier.phone(PHONES["alice"])
    await routing.assert_clean()


async def test_a_holiday_closes_the_team_with_its_own_fallback(routing, carrier):
    await routing.setup(directory())
    now = datetime.now(UTC)
    await routing.add_team_rows(team_hours, [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(7)])
    await routing.add_team_rows(team_holidays, [{"day": now.date(), "name": "Team outing"}])
    await routing.update_team(closed_kind="number", closed_target="+31610000004")
    await carrier.set_phone(PHONES["dave"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    dave = await carrier.wait_rung(PHONES["dave"])
    await carrier.wait_for(lambda: dave.answered and leg.answered, 10, "the closed number to take the call")
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "closed"
    assert not carrier.phone(PHONES["alice"])
    await routing.assert_clean()


async def test_open_hours_route_normally(routing, carrier):
    await routing.setup(directory(available=("alice",)))
    now = datetime.now(UTC)
    await routing.add_team_rows(team_hours, [{"weekday": now.weekday(), "opens": "00:00", "closes": "24:00"}])
    await routing.add_team_rows(team_holidays, [{"day": now.date() + timedelta(days=2), "name": "later"}])
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered"


async def test_auto_unavailable_after_consecutive_misses(routing, carrier):
    await routing.setup(directory(available=("alice", "bob")))
    await routing.update_team(auto_unavailable_after=2)
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer")
    for n in (1, 2):
        leg = await carrier.call(TEAM_NUMBER)
        await routing.wait_bridged(timeout=15)
        await carrier.hangup_caller(leg)
        await routing.wait_calls_finished(n)
        await routing.assert_clean()
    state = await routing.availability_of("alice")
    assert state.available is False and state.reason == "auto"
    # The third call goes straight to bob.
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    records = await routing.wait_calls_finished(3)
    assert records[-1].attempts == [("bob", "answered")]
    assert len(carrier.phone(PHONES["alice"])) == 2
    # The member turns it back on: the next call rings them again.
    await routing.set_available("alice", True)
    assert (await routing.availability_of("alice")).available is True

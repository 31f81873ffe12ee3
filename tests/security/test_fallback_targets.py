"""Finding 2: a team's fallback and closed targets cannot dial premium, international-network or
foreign numbers, nor continue in a dialplan context the sysadmin did not list; refused at write
and again when a call needs the target (a stored row is never trusted)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from teamfoned.config import ConfigError, settings_from_dict
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401

PREMIUM = "+319001234567"  # Dutch 0900: premium rate
REFUSED_NUMBERS = [
    PREMIUM,
    "319001234567",  # the same without the + (stored numbers may lack it)
    "+88213500001",  # international networks: billed as satellite
    "+4930901820",  # Germany: a real fixed line, but not an allowed country
    "+442079460000",  # United Kingdom
]
REFUSED_DIALPLAN = [
    "from-internal,0088213500001,1",  # the example: a context nobody allowed
    "from-trunk,3120555100,1",  # routing entry: any tenant's team number
    "teamfoned-dial,s,1",  # dials whatever TEAMFONED_DIAL holds
    "teamfoned-fallback,0088213500001",  # an allowed context, but an extension of the tenant's choice
    "teamfoned-fallback,s,2",  # an allowed context, but skipping its first step
]


def _bodies(kind: str, target: str) -> list[tuple[dict[str, Any], str]]:
    return [({"fallback_kind": kind, "fallback_target": target}, "fallback"),
            ({"closed_kind": kind, "closed_target": target}, "closed")]


@pytest.mark.parametrize(("kind", "target"), [("number", n) for n in REFUSED_NUMBERS]
                         + [("dialplan", t) for t in REFUSED_DIALPLAN])
async def test_a_forbidden_fallback_or_closed_target_is_refused(api: LiveApi, kind: str,
                                                                target: str) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    for body, field in _bodies(kind, target):
        patched = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json=body)
        assert patched.status_code == 422, (body, patched.text)
        assert error_of(patched)["fields"][0]["field"] == field, patched.text
        created = await c.post("/v1/admin/teams", headers=ann, json={"name": "night", **body})
        assert created.status_code == 422, (body, created.text)
        assert error_of(created)["fields"][0]["field"] == field, created.text
    assert await api.snapshot() == before


async def test_an_allowed_number_and_context_are_accepted(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    for body in ({"fallback_kind": "number", "fallback_target": "+31201239999"},
                 {"fallback_kind": "dialplan", "fallback_target": "teamfoned-closed"},
                 {"fallback_kind": "dialplan", "fallback_target": "teamfoned-fallback,s,1"},
                 {"closed_kind": "dialplan", "closed_target": "teamfoned-fallback"},
                 {"closed_kind": "number", "closed_target": "31612345678"}):
        done = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json=body)
        assert done.status_code == 200, (body, done.text)
        assert {k: done.json()[k] for k in body} == body


def test_the_daemons_own_contexts_cannot_be_allowed() -> None:
    for context in ("from-trunk", "teamfoned-dial", "Teamfoned-Announce"):
        with pytest.raises(ConfigError) as refused:
            settings_from_dict({"ari": {"password": "x"},
                                "telephony": {"fallback_contexts": ["voicemail", context]}})
        assert refused.value.problems[0].startswith("telephony.fallback_contexts: ")
    allowed = settings_from_dict({"ari": {"password": "x"},
                                  "telephony": {"fallback_contexts": ["voicemail"]}})
    assert allowed.telephony.fallback_policy().contexts == {"voicemail"}


def test_the_contexts_named_are_those_shipped() -> None:
    from teamfoned.domain.team_settings import RESERVED_CONTEXTS, SHIPPED_FALLBACK_CONTEXTS

    shipped = (Path(__file__).parents[2] / "asterisk-config" / "extensions.conf").read_text()
    for context in (*SHIPPED_FALLBACK_CONTEXTS, *RESERVED_CONTEXTS):
        assert f"\n[{context}]\n" in shipped, context


@pytest.mark.parametrize(("kind", "target"), [("number", n) for n in REFUSED_NUMBERS]
                         + [("dialplan", t) for t in REFUSED_DIALPLAN])
def test_the_plan_refuses_a_stored_target_again(kind: str, target: str) -> None:
    # Imported here, so that the module's other tests also run against older code.
    from teamfoned.domain.team_settings import FallbackPolicy
    from teamfoned.routing.model import CallOutcome, FallbackKind, FallbackTarget
    from teamfoned.telephony.fallback import plan_fallback

    plan = plan_fallback(FallbackTarget(FallbackKind(kind), target), TEAM_NUMBER, outcome=CallOutcome.NO_ONE_AVAILABLE,
                         policy=FallbackPolicy(), tenant_id=uuid.uuid4())
    assert (plan.context, plan.extension, plan.priority, plan.dial_number, plan.variables) == (
        "teamfoned-fallback", TEAM_NUMBER, 1, None, ())
    assert plan.refused


# -- with real calls -----------------------------------------------------------------------------

async def _caller_seen_in(routing: Any, context: str, timeout: float = 10.0) -> dict[str, Any]:
    """Wait until a channel of the PBX is in `context` (the caller, handed to the dialplan)."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen: set[str] = set()
    while True:
        for channel in await routing.daemon.ari.list_channels():
            where = channel.get("dialplan", {}).get("context", "")
            seen.add(where)
            if where == context:
                return channel
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no channel reached {context} (contexts seen: {sorted(seen)})")
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("row", [
    {"fallback_kind": "number", "fallback_target": PREMIUM},
    {"fallback_kind": "dialplan", "fallback_target": "from-internal,0088213500001,1"},
], ids=["premium-number", "forbidden-context"])
async def test_a_stored_forbidden_target_goes_to_the_shipped_fallback(routing_each_db, carrier,
                                                                      row: dict[str, str]) -> None:
    routing = routing_each_db
    await routing.setup(directory(available=()))
    # Written past the API, as a hand-edited or pre-upgrade row would be.
    await routing.update_team(**row)
    await carrier.set_phone(PREMIUM, "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await _caller_seen_in(routing, "teamfoned-fallback")
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the shipped fallback to end the call")
    assert leg.answered and leg.connected_seconds > 1  # its announcement played
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "no_one_available"
    assert carrier.phone(PREMIUM) == []  # never dialled
    await routing.assert_clean()


async def test_a_fallback_to_an_allowed_context_still_works(routing_each_db, carrier) -> None:
    routing = routing_each_db
    await routing.setup(directory(available=(), fallback={"kind": "dialplan",
                                                          "target": "teamfoned-closed"}))
    leg = await carrier.call(TEAM_NUMBER)
    channel = await _caller_seen_in(routing, "teamfoned-closed")
    assert channel["dialplan"]["exten"] == TEAM_NUMBER
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the closed announcement to end")
    assert leg.answered and leg.connected_seconds > 1
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "no_one_available"
    assert not carrier.phone(PHONES["alice"])
    await routing.assert_clean()

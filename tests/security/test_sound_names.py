"""Finding 7: a team's sounds are plain names played from its tenant's own sound directory; no path
(absolute, relative or "..") a tenant admin gives can reach Asterisk's Playback."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import pytest

from tests.e2e.routing_bench import TEAM_NUMBER, directory
from tests.integration.test_api_bench import LiveApi, api_fixture, error_of  # noqa: F401
from tests.security.test_fallback_targets import _caller_seen_in

VOICEMAIL = "/var/spool/asterisk/voicemail/default/1234/INBOX/msg0000"
REFUSED = [VOICEMAIL, "../x", "../../../../var/spool/asterisk/voicemail/default/1234/INBOX/msg0000",
           "custom/desk-call", "desk.call", "desk&/etc/passwd", "desk,j", ""]


@pytest.mark.parametrize("name", REFUSED)
async def test_a_path_is_refused_as_a_sound_name(api: LiveApi, name: str) -> None:
    ann, c = api.world.auth("ann"), api.client
    desk = api.world.teams["desk"]
    before = await api.snapshot()
    for body, field in [({"confirm_recording": name}, "confirm_recording"),
                        ({"fallback_kind": "announce", "fallback_target": name}, "fallback"),
                        ({"closed_kind": "announce", "closed_target": name}, "closed")]:
        patched = await c.patch(f"/v1/admin/teams/{desk}", headers=ann, json=body)
        assert patched.status_code == 422, (body, patched.text)
        assert error_of(patched)["fields"][0]["field"] == field, patched.text
        created = await c.post("/v1/admin/teams", headers=ann, json={"name": "night", **body})
        assert created.status_code == 422, (body, created.text)
    assert await api.snapshot() == before


async def test_a_plain_name_is_accepted(api: LiveApi) -> None:
    ann, c = api.world.auth("ann"), api.client
    body = {"confirm_recording": "desk-call", "fallback_kind": "announce",
            "fallback_target": "out_of_office", "closed_kind": "announce", "closed_target": None}
    done = await c.patch(f"/v1/admin/teams/{api.world.teams['desk']}", headers=ann, json=body)
    assert done.status_code == 200, done.text
    assert {k: done.json()[k] for k in body} == body


def test_the_daemon_plays_a_plain_name_from_the_tenants_directory_only() -> None:
    # Imported here, so that the module's other tests also run against older code.
    from teamfoned.domain.team_settings import FallbackPolicy
    from teamfoned.routing.model import CallOutcome, FallbackKind, FallbackTarget, TeamRoute
    from teamfoned.telephony.fallback import plan_fallback
    from teamfoned.telephony.prompts import confirmation_prompt

    TENANT = uuid.uuid4()
    ROUTE = TeamRoute(TENANT, uuid.uuid4(), "support", "Support", "linear", 20.0, 60.0, 0.0,
                      True, "dialplan", None, None)
    mine = confirmation_prompt(dataclasses.replace(ROUTE, confirm_recording="desk-call"), TEAM_NUMBER, "1")
    assert mine.split(",")[0] == f"sound:teamfoned/{TENANT}/desk-call"
    for stored in REFUSED[:-1]:  # a stored path plays the shipped prompt
        shipped = confirmation_prompt(dataclasses.replace(ROUTE, confirm_recording=stored), TEAM_NUMBER, "1")
        assert shipped.startswith("sound:calling,sound:digits/") and stored not in shipped
    plan = plan_fallback(FallbackTarget(FallbackKind.ANNOUNCE, "closed-message"), TEAM_NUMBER,
                         outcome=CallOutcome.CLOSED, policy=FallbackPolicy(), tenant_id=TENANT)
    assert plan.variables == (("TEAMFONED_SOUND", f"teamfoned/{TENANT}/closed-message"),)
    default = plan_fallback(FallbackTarget(FallbackKind.ANNOUNCE), TEAM_NUMBER,
                            outcome=CallOutcome.TIMED_OUT, policy=FallbackPolicy(), tenant_id=TENANT)
    assert default.variables == (("TEAMFONED_SOUND", "ss-noservice"),)
    for stored in REFUSED[:-1]:
        refused = plan_fallback(FallbackTarget(FallbackKind.ANNOUNCE, stored), TEAM_NUMBER,
                                outcome=CallOutcome.TIMED_OUT, policy=FallbackPolicy(), tenant_id=TENANT)
        assert (refused.context, refused.variables, bool(refused.refused)) == (
            "teamfoned-fallback", (), True)


async def test_a_stored_path_never_reaches_playback(routing_each_db, carrier) -> None:
    routing = routing_each_db
    await routing.setup(directory(available=()))
    # Written past the API, as a hand-edited or pre-upgrade row would be.
    row: dict[str, Any] = {"fallback_kind": "announce", "fallback_target": VOICEMAIL}
    await routing.update_team(**row)
    leg = await carrier.call(TEAM_NUMBER)
    await _caller_seen_in(routing, "teamfoned-fallback")
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the shipped fallback to end the call")
    assert leg.answered and leg.connected_seconds > 1
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "no_one_available"
    await routing.assert_clean()

"""Finding 13: the caller-id name from the trunk reaches a member's phone without control characters."""

from __future__ import annotations

import pytest

from teamfoned.telephony.prompts import member_caller_id
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("name", ["Jan\tJansen", "Jan\x00Jansen", "Jan\x1bJansen", "Jan\x7fJansen",
                                  "Jan\u2028Jansen", "Jan\x85Jansen"])
def test_every_control_character_is_stripped(name: str) -> None:
    shown = member_caller_id("+31201234567", name, "Reception")
    assert shown == '"Reception: JanJansen" <+31201234567>'


async def test_a_tab_in_the_trunk_caller_name_never_reaches_the_member(routing_each_db, carrier) -> None:
    routing = routing_each_db
    await routing.setup(directory(available=("alice",)))
    await routing.update_team(label="Reception")
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER, caller_id="+31201234567", caller_name="Jan\tJansen")
    alice = await carrier.wait_rung(PHONES["alice"])
    assert alice.caller_id_num == "+31201234567"
    assert alice.caller_id_name == "Reception: JanJansen"
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    await routing.wait_calls_finished(1)
    await routing.assert_clean()

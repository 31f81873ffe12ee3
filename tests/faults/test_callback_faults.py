"""The callback under faults: the daemon killed while a callback request waits; its restart calls the caller back."""

import pytest

from tests.e2e.routing_bench import TEAM_NUMBER
from tests.e2e.test_callback import CALLER, busy_team_and_a_request, callback_directory

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(150)]


async def test_daemon_killed_with_a_callback_request_its_restart_calls_the_caller_back(crashable, carrier):
    await crashable.setup(callback_directory())
    await carrier.set_phone(CALLER, "answer", delay=0.5)
    talking = await busy_team_and_a_request(crashable, carrier)
    crashable.process.kill()  # no clean-up code runs: the request is only in the database

    await crashable.process.start_ready()
    # The restart adopts the talking pair and takes the request up again; once alice is free
    # it is at the front.
    await carrier.hangup_caller(talking)
    called_back = await carrier.wait_rung(CALLER, timeout=20)
    assert called_back.caller_id_num.lstrip("+") == TEAM_NUMBER
    await carrier.wait_for(lambda: called_back.answered, 10, "the caller to answer the callback")
    await crashable.wait_bridged()
    await carrier.hangup_phone(called_back)
    records = await crashable.wait_calls_finished(2, timeout=20)
    assert sorted(r.outcome for r in records) == ["answered", "callback_answered"]
    assert await crashable.open_attempts() == []
    await crashable.assert_clean()

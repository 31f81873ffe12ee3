"""With no daemon connected, a team number still answers: the shipped dialplan's fallback runs."""

import pytest

pytestmark = pytest.mark.e2e


async def test_call_without_daemon_reaches_dialplan_fallback(pbx, carrier):
    leg = await carrier.call("3120555000", caller_id="+31612345678")
    # The fallback answers and plays an announcement, then hangs up by itself.
    await carrier.wait_for(lambda: leg.answered, 10, "the fallback to answer")
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the fallback to hang up")
    assert not leg.failed
    assert leg.connected_seconds > 1.0  # an announcement was played, not an instant hang-up
    await carrier.wait_idle()

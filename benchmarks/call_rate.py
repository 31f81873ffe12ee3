"""2. Sustained call rate: the highest SIPp call rate with zero failed calls, per way of routing.

Each step places `seconds` worth of calls at a fixed rate (answered at once,
held about 0.5 s, hung up by the caller). A step passes when SIPp counts no
failed call (every answer within 2 s of the INVITE, so a router that builds a
backlog fails) and every member phone rang once per call. Rates rise until a
step fails; the bench stops there. (The phones' own "answered" event is
reported but not required: a caller that hangs up right after the 200 OK
can beat the phone's dialplan to it.)
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from benchmarks import dialplan, sipp
from benchmarks.carrier_clock import TimedCarrier

RATES = (10, 20, 40, 60, 80, 100, 130, 160, 200, 250, 300)
# A call must be answered within this time: a router that falls behind fails the step.
ANSWER_WITHIN_MS = 2000


async def ramp(carrier: TimedCarrier, prefix: str, *, target: str, local_host: str, workdir: Path,
               members: int, seconds: float, rates=RATES, settle=None, time_limit: float = 120) -> dict:
    best, steps = 0, []
    deadline = time.monotonic() + time_limit
    numbers = [dialplan.number(prefix, i) for i in range(members)]
    for rate in rates:
        if time.monotonic() > deadline:
            break
        calls = max(20, int(rate * seconds))
        try:
            await carrier.wait_idle(30)
        except TimeoutError:
            pass
        carrier.forget()
        before = carrier.answered_count
        out = await sipp.run_calls(workdir, target=target, numbers=numbers, rate=rate, calls=calls,
                                   pause_ms=500, limit=rate * 10, local_host=local_host,
                                   timeout_s=int(seconds + 30), answer_within_ms=ANSWER_WITHIN_MS)
        try:
            await carrier.wait_idle(30)
        except TimeoutError:
            pass
        if settle is not None:
            await settle()
        rang = len(carrier.rang)
        carrier.forget()
        answered = carrier.answered_count - before
        ok = out["rc"] == 0 and out["failed"] == 0 and out["successful"] == calls and rang == calls
        steps.append({"rate": rate, "calls": calls, "successful": out["successful"],
                      "failed": out["failed"], "phones_answered": answered, "phones_rang": rang, "ok": ok})
        if not ok:
            break
        best = rate
        await asyncio.sleep(0.5)
    return {"max_cps": best, "steps": steps}

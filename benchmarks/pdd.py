"""1. Added post-dial delay: carrier sends the call -> the member's phone gets its INVITE.

Three ways to the same member phones, interleaved call by call in one run:
teamfoned (Stasis), a plain Dial() and app_queue's Queue(). Both instants come
from the carrier's own clock (AMI event time stamps): the caller channel's
creation just before its INVITE leaves, and the PhoneRang event the member
phone's dialplan raises on the INVITE from the PBX. Calls run one at a time;
the caller hangs up as soon as the phone rings.
"""

from __future__ import annotations

import asyncio
import time

from benchmarks import dialplan
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.stats import summary

SIDES = {"native": dialplan.NATIVE_PREFIX, "queue": dialplan.QUEUE_PREFIX,
         "teamfoned": dialplan.TEAMFONED_PREFIX}
ROTATE = 10  # members used in turn, so a member's previous call is long over


async def one_call(carrier: TimedCarrier, prefix: str, i: int) -> float:
    phone = dialplan.member_phone(i)
    seen = len(carrier.rang)
    leg = await carrier.call(dialplan.number(prefix, i), caller_id="+31201234567", timeout=20)
    try:
        await carrier.wait_for(lambda: any(n == phone for n, _ in carrier.rang[seen:]), 10,
                               f"{phone} to ring")
    finally:
        await carrier.wait_for(lambda: leg.uniqueid in carrier._channels or leg.ended.is_set(), 5,
                               "the caller channel")
        await carrier.hangup_caller(leg)
    rang_at = next(t for n, t in carrier.rang[seen:] if n == phone)
    return (rang_at - carrier.caller_created[leg.uniqueid]) * 1000


async def measure(carrier: TimedCarrier, calls_per_side: int, time_limit: float) -> dict:
    results: dict[str, list[float]] = {side: [] for side in SIDES}
    failures: dict[str, int] = {side: 0 for side in SIDES}
    deadline = time.monotonic() + time_limit
    for k in range(calls_per_side):
        if time.monotonic() > deadline:
            break
        for side, prefix in SIDES.items():
            try:
                results[side].append(await one_call(carrier, prefix, k % ROTATE))
            except TimeoutError:
                failures[side] += 1
            await carrier.wait_idle(10)
            await asyncio.sleep(0.02)
        carrier.forget()
    stats = {side: summary(values) for side, values in results.items()}
    added = [t - n for t, n in zip(results["teamfoned"], results["native"], strict=True)]
    return {"sides": stats, "failures": failures, "added": summary(added), "raw": results}

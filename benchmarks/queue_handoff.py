"""11. The waiting line's hand-off: a member ends a call -> the next waiting caller's leg INVITE.

One member, whose phone answers at once. Caller 1 is answered and talking; caller 2 calls and
waits (teamfoned's waiting line; app_queue's Queue() with `ringinuse=no`, `wrapuptime=0`).
Then the carrier hangs up the member's phone: its BYE ends call 1. The figure runs from that
phone channel's end to the member phone's next INVITE (for caller 2), both on the carrier's
clock (Asterisk's AMI time stamps), so the bench's Python adds nothing to it. The two ways take
turns trial by trial, on the same member phone.

The hang-up falls at a random instant within one second (app_queue's `retry` period) after a
settling second, so app_queue's retry timer is sampled over its whole period, not at one phase.
"""

from __future__ import annotations

import asyncio
import random
import time

from benchmarks import dialplan
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.stats import pct, summary

SIDES = {"teamfoned": dialplan.TEAMFONED_PREFIX, "queue": dialplan.QUEUE_PREFIX}
SETTLE = 1.0  # after caller 2 hears ringing: waiting in the line / in Queue()'s loop


def member_legs(carrier: TimedCarrier, phone: str, since: int) -> list[float]:
    """Carrier times of the INVITEs that reached `phone` since `carrier.rang[since]`."""
    return [at for number, at in carrier.rang[since:] if number == phone]


async def one_trial(carrier: TimedCarrier, number: str, phone: str, rng: random.Random) -> float:
    seen = len(carrier.rang)
    first = await carrier.call(number, caller_id="+31201234561", timeout=30)
    second = None
    try:
        talking = await carrier.wait_for(
            lambda: next((c for c in carrier.phone(phone) if c.answered), None), 10,
            "the member to answer caller 1")
        await carrier.wait_for(lambda: first.answered, 10, "caller 1 to be connected")
        second = await carrier.call(number, caller_id="+31201234562", timeout=30)
        await carrier.wait_for(lambda: second.ringing_at is not None, 10, "caller 2 to hear ringing")
        await asyncio.sleep(SETTLE + rng.random())
        if len(member_legs(carrier, phone, seen)) != 1:
            raise RuntimeError("the busy member was rung for caller 2: no waiting, no hand-off")
        await carrier.hangup_phone(talking)
        await carrier.wait_for(lambda: len(member_legs(carrier, phone, seen)) >= 2, 10,
                               "the member's leg for caller 2")
        bye_at = await carrier.wait_for(lambda: carrier.phone_hung_up.get(talking.uniqueid), 5,
                                        "the end of call 1 on the member's phone")
        return (member_legs(carrier, phone, seen)[1] - bye_at) * 1000
    finally:
        for leg in (first, second):
            if leg is not None:
                await carrier.wait_for(lambda leg=leg: leg.uniqueid in carrier._channels or leg.ended.is_set(),
                                       5, "the caller channel")
                await carrier.hangup_caller(leg)
        await carrier.wait_idle(10)
        carrier.forget()


async def measure(carrier: TimedCarrier, members: int, trials: int, time_limit: float) -> dict:
    phone = dialplan.handoff_phone(members)
    await carrier.set_phone(phone, "answer")
    rng = random.Random(14)  # the same hang-up instants in every run
    results: dict[str, list[float]] = {side: [] for side in SIDES}
    failures: dict[str, list[str]] = {side: [] for side in SIDES}
    deadline = time.monotonic() + time_limit
    for _ in range(trials):
        if time.monotonic() > deadline:
            break
        for side, prefix in SIDES.items():
            try:
                results[side].append(await one_trial(carrier, dialplan.number(prefix, dialplan.HANDOFF),
                                                     phone, rng))
            except (TimeoutError, RuntimeError) as exc:
                failures[side].append(str(exc))
            await asyncio.sleep(0.2)
    sides = {side: {**summary(values), "p90": pct(values, 90)} for side, values in results.items()}
    return {"sides": sides, "failures": failures, "raw": results}

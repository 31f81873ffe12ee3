"""The webhook outbox: events are written in the same transaction as the call record they describe.

So an event is never lost when the daemon stops, and never sent for a call that was not recorded.
The sender reads what is due here, taken round-robin across tenants, and marks each delivery
delivered or failed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from teamfoned.routing.model import MISSED_OUTCOMES
from teamfoned.store.tables import WebhookDelivery, calls, webhook_deliveries, webhooks

EVENTS = ("call.finished", "call.missed")


def events_for(outcome: str) -> list[str]:
    return ["call.finished", *(["call.missed"] if outcome in MISSED_OUTCOMES else [])]


async def enqueue_call_events(session: AsyncSession | AsyncConnection, call_id: uuid.UUID, *,
                              now: datetime) -> int:
    """Queue the finished call's events for every webhook of its tenant that wants them."""
    call = (await session.execute(select(calls).where(calls.c.id == call_id))).first()
    if call is None or call.outcome is None:
        return 0
    hooks = (await session.execute(
        select(webhooks.c.id, webhooks.c.events).where(webhooks.c.tenant_id == call.tenant_id)
    )).all()
    return await queue_call_events(session, call, [(hook_id, events) for hook_id, events in hooks], now=now)


async def queue_call_events(session: AsyncSession | AsyncConnection, call: Any,
                            hooks: list[tuple[uuid.UUID, str]], *, now: datetime) -> int:
    """Queue the events of `call` (its finished row: a row of `calls` with every column) for
    the tenant's `hooks` (id, the events each wants), in the caller's transaction."""
    if not hooks:
        return 0
    payload = {
        "call_id": str(call.id),
        "tenant_id": str(call.tenant_id),
        "team_id": str(call.team_id) if call.team_id else None,
        "outcome": call.outcome,
        "caller_number": call.caller_number,
        "dialled_number": call.dialled_number,
        "started_at": call.started_at.isoformat(),
        "answered_at": call.answered_at.isoformat() if call.answered_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "wait_seconds": call.wait_seconds,
        "talk_seconds": call.talk_seconds,
        "answered_by": str(call.answered_by) if call.answered_by else None,
        "node": call.node,
    }
    queued = 0
    for event in events_for(call.outcome):
        body = json.dumps({"event": event, "call": payload}, sort_keys=True)
        for hook_id, wanted in hooks:
            if event in wanted.split(","):
                await session.execute(insert(webhook_deliveries).values(
                    id=uuid.uuid4(), tenant_id=call.tenant_id, webhook_id=hook_id, event=event,
                    payload=body, created_at=now, attempts=0, next_attempt_at=now,
                ))
                queued += 1
    return queued


@dataclass(frozen=True)
class DueDelivery:
    """One delivery to attempt now, with what the sender needs to sign and send it."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    event: str
    payload: str
    attempts: int
    url: str
    secret: str


async def due_deliveries(session: AsyncSession, *, now: datetime, max_attempts: int, limit: int,
                         per_tenant: int, exclude: Collection[uuid.UUID] = ()) -> list[DueDelivery]:
    """Deliveries due at `now`, at most `per_tenant` of each tenant, round-robin across tenants.

    Each tenant's oldest due delivery comes first, then every tenant's second, and so on; within
    a round the tenant waiting longest goes first. So one tenant's backlog never holds back
    another's events. `exclude`: deliveries already in flight.
    """
    d = webhook_deliveries
    place = func.row_number().over(partition_by=d.c.tenant_id,
                                   order_by=(d.c.next_attempt_at, d.c.id)).label("place")
    waiting = (select(d.c.id, place)
               .where(d.c.delivered_at.is_(None), d.c.next_attempt_at <= now,
                      d.c.attempts < max_attempts)
               .where(*([d.c.id.not_in(list(exclude))] if exclude else []))
               .subquery())
    rows = (await session.execute(
        select(d.c.id, d.c.tenant_id, d.c.event, d.c.payload, d.c.attempts,
               webhooks.c.url, webhooks.c.secret)
        .join(waiting, waiting.c.id == d.c.id)
        .join(webhooks, webhooks.c.id == d.c.webhook_id)
        .where(waiting.c.place <= per_tenant)
        .order_by(waiting.c.place, d.c.next_attempt_at, d.c.id)
        .limit(limit))).all()
    return [DueDelivery(*row) for row in rows]


async def mark_delivered(session: AsyncSession, delivery_id: uuid.UUID, *, attempts: int,
                         now: datetime) -> None:
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                          .values(delivered_at=now, attempts=attempts, last_error=None))


async def mark_failed(session: AsyncSession, delivery_id: uuid.UUID, *, attempts: int, error: str,
                      next_attempt_at: datetime) -> None:
    """`error` is shown to the tenant: say only what the tenant may know."""
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                          .values(attempts=attempts, last_error=error[:300],
                                  next_attempt_at=next_attempt_at))


# The payload's fields that name a member by id; any field may carry a number.
_MEMBER_FIELDS = ("answered_by", "handled_by")


def redact_payload(payload: str, *, numbers: Iterable[str], member_id: uuid.UUID) -> str | None:
    """The payload with the member forgotten (null where their number or id was), or None when
    it never named them. Numbers compare case-blind: a SIP endpoint's name has no case."""
    wanted = {n.lower() for n in numbers}
    document = json.loads(payload)
    call = document.get("call")
    if not isinstance(call, dict):
        return None
    changed = False
    for key, value in call.items():
        if isinstance(value, str) and (value.lower() in wanted or (
                key in _MEMBER_FIELDS and value == str(member_id))):
            call[key] = None
            changed = True
    return json.dumps(document, sort_keys=True) if changed else None


async def redact_deliveries(session: AsyncSession, tenant_id: uuid.UUID, *,
                            numbers: Collection[str], member_id: uuid.UUID) -> int:
    """Forget an erased member in the tenant's deliveries, sent and pending alike; how many changed.

    A pending delivery still goes, carrying the call as its record now reads (no caller
    number, nobody answered by name): the receiver learns the outcome, not the person.
    """
    d = webhook_deliveries
    needles = [*numbers, str(member_id)]
    candidates = (await session.execute(select(d.c.id, d.c.payload).where(
        d.c.tenant_id == tenant_id,
        or_(*(func.lower(d.c.payload).contains(n.lower(), autoescape=True) for n in needles)),
    ))).all()
    changed = 0
    for delivery_id, payload in candidates:
        redacted = redact_payload(payload, numbers=numbers, member_id=member_id)
        if redacted is not None:
            await session.execute(update(d).where(d.c.id == delivery_id).values(payload=redacted))
            changed += 1
    return changed

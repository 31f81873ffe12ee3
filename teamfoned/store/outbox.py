"""The webhook outbox: events are written in the same transaction as the call record they describe.

So an event is never lost when the daemon stops, and never sent for a call that was not recorded.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.routing.model import MISSED_OUTCOMES
from teamfoned.store.tables import calls, webhook_deliveries, webhooks

EVENTS = ("call.finished", "call.missed")


def events_for(outcome: str) -> list[str]:
    return ["call.finished", *(["call.missed"] if outcome in MISSED_OUTCOMES else [])]


async def enqueue_call_events(session: AsyncSession, call_id: uuid.UUID, *, now: datetime) -> int:
    """Queue the finished call's events for every webhook of its tenant that wants them."""
    call = (await session.execute(select(calls).where(calls.c.id == call_id))).first()
    if call is None or call.outcome is None:
        return 0
    hooks = (await session.execute(
        select(webhooks.c.id, webhooks.c.events).where(webhooks.c.tenant_id == call.tenant_id)
    )).all()
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

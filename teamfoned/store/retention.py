"""History past its tenant's retention is deleted: a call N days after it started, a webhook delivery N days after it was written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store.engine import changed_rows
from teamfoned.store.tables import attempts, calls, tenants, webhook_deliveries


@dataclass(frozen=True)
class Purged:
    tenant: str
    retention_days: int
    calls: int
    attempts: int
    deliveries: int


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Calls that started before this moment are past retention (exactly N x 24 hours ago)."""
    return now - timedelta(days=retention_days)


async def purge_expired(session: AsyncSession, *, now: datetime,
                        tenant_id: uuid.UUID | None = None) -> list[Purged]:
    """Delete every expired call with its attempts, and expired webhook deliveries (whose
    payloads describe calls), tenant by tenant; returns what went per tenant.

    A delivery is written when its call ends, so it expires at most one call's length after
    the call; pending ones go too: retention outranks a receiver that was never reached.
    """
    query = select(tenants.c.id, tenants.c.name, tenants.c.retention_days).order_by(tenants.c.name)
    if tenant_id is not None:
        query = query.where(tenants.c.id == tenant_id)
    report = []
    for tenant in (await session.execute(query)).all():
        expired = select(calls.c.id).where(
            calls.c.tenant_id == tenant.id, calls.c.started_at < cutoff(now, tenant.retention_days))
        # Attempts first and explicitly: the cascade is not something to lean on in a purge.
        gone_attempts = await changed_rows(session, delete(attempts).where(attempts.c.call_id.in_(expired)))
        gone_calls = await changed_rows(session, delete(calls).where(calls.c.id.in_(expired)))
        gone_deliveries = await changed_rows(session, delete(webhook_deliveries).where(
            webhook_deliveries.c.tenant_id == tenant.id,
            webhook_deliveries.c.created_at < cutoff(now, tenant.retention_days)))
        report.append(Purged(tenant.name, tenant.retention_days, gone_calls, gone_attempts,
                             gone_deliveries))
    return report

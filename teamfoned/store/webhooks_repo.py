"""A tenant's webhooks and their recent deliveries for the API; the signing secret is never read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import NotFound
from teamfoned.store.engine import changed_rows
from teamfoned.store.tables import webhook_deliveries, webhooks


@dataclass(frozen=True, slots=True)
class WebhookView:
    id: uuid.UUID
    url: str
    events: list[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: uuid.UUID
    event: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    last_error: str | None


def _view(row: object) -> WebhookView:
    return WebhookView(id=row.id, url=row.url,  # type: ignore[attr-defined]
                       events=[e for e in row.events.split(",") if e],  # type: ignore[attr-defined]
                       created_at=row.created_at)  # type: ignore[attr-defined]


async def webhook(session: AsyncSession, tenant_id: uuid.UUID, hook_id: uuid.UUID) -> WebhookView:
    row = (await session.execute(
        select(webhooks.c.id, webhooks.c.url, webhooks.c.events, webhooks.c.created_at)
        .where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == hook_id))).first()
    if row is None:
        raise NotFound("webhook")
    return _view(row)


async def list_webhooks(session: AsyncSession, tenant_id: uuid.UUID) -> list[WebhookView]:
    rows = (await session.execute(
        select(webhooks.c.id, webhooks.c.url, webhooks.c.events, webhooks.c.created_at)
        .where(webhooks.c.tenant_id == tenant_id)
        .order_by(webhooks.c.created_at, webhooks.c.id))).all()
    return [_view(r) for r in rows]


async def create_webhook(session: AsyncSession, tenant_id: uuid.UUID, *, url: str, events: str,
                         secret: str, now: datetime) -> uuid.UUID:
    """Store a checked webhook (teamfoned.webhooks.admin checks it); returns its id."""
    hook_id = uuid.uuid4()
    await session.execute(insert(webhooks).values(id=hook_id, tenant_id=tenant_id, url=url,
                                                  secret=secret, events=events, created_at=now))
    return hook_id


async def remove_webhook(session: AsyncSession, tenant_id: uuid.UUID, hook_id: uuid.UUID) -> bool:
    done = await changed_rows(session,
        delete(webhooks).where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == hook_id))
    return bool(done)


async def deliveries(session: AsyncSession, tenant_id: uuid.UUID, hook_id: uuid.UUID, *,
                     limit: int) -> list[DeliveryView]:
    """The webhook's latest deliveries, newest first (not the payload, never the secret)."""
    await webhook(session, tenant_id, hook_id)
    rows = (await session.execute(
        select(webhook_deliveries.c.id, webhook_deliveries.c.event,
               webhook_deliveries.c.created_at, webhook_deliveries.c.attempts,
               webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.delivered_at,
               webhook_deliveries.c.last_error)
        .where(webhook_deliveries.c.tenant_id == tenant_id,
               webhook_deliveries.c.webhook_id == hook_id)
        .order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id.desc())
        .limit(limit))).all()
    return [DeliveryView(id=r.id, event=r.event, created_at=r.created_at, attempts=r.attempts,
                         next_attempt_at=None if r.delivered_at else r.next_attempt_at,
                         delivered_at=r.delivered_at, last_error=r.last_error) for r in rows]

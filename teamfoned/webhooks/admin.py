"""Adding, listing and removing a tenant's webhooks; the secret is shown once, when created."""

from __future__ import annotations

import ipaddress
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store.outbox import EVENTS
from teamfoned.store.tables import webhooks


class WebhookRefused(ValueError):
    """A webhook that cannot be accepted: the message says why."""


def check_url(url: str) -> str:
    """HTTPS only; plain HTTP only to this machine (a local relay), never across a network."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise WebhookRefused("put no credentials in the URL: requests are signed instead")
    if parts.scheme == "http":
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise WebhookRefused("webhooks use https (plain http only to a loopback address)")
    if len(url) > 500:
        raise WebhookRefused("URL longer than 500 characters")
    return url


def check_events(events: list[str]) -> str:
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise WebhookRefused(f"events must be some of {', '.join(EVENTS)} (got {', '.join(unknown) or 'none'})")
    return ",".join(sorted(set(events)))


async def add_webhook(session: AsyncSession, tenant_id: uuid.UUID, url: str,
                      events: list[str]) -> tuple[uuid.UUID, str]:
    """Returns the webhook id and its signing secret (shown once)."""
    hook_id, secret = uuid.uuid4(), secrets.token_urlsafe(32)
    await session.execute(insert(webhooks).values(
        id=hook_id, tenant_id=tenant_id, url=check_url(url), secret=secret,
        events=check_events(events), created_at=datetime.now(UTC)))
    return hook_id, secret


async def list_webhooks(session: AsyncSession, tenant_id: uuid.UUID) -> list[Any]:
    return list((await session.execute(
        select(webhooks.c.id, webhooks.c.url, webhooks.c.events, webhooks.c.created_at)
        .where(webhooks.c.tenant_id == tenant_id).order_by(webhooks.c.created_at))).all())


async def remove_webhook(session: AsyncSession, tenant_id: uuid.UUID, hook_id: uuid.UUID) -> bool:
    done = await session.execute(
        delete(webhooks).where(webhooks.c.tenant_id == tenant_id, webhooks.c.id == hook_id))
    return bool(done.rowcount)

"""Adding, listing and removing a tenant's webhooks; the secret is shown once, when created."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store.outbox import EVENTS
from teamfoned.store.tables import webhooks
from teamfoned.webhooks.destinations import DestinationPolicy, literal_address, looks_local


class WebhookRefused(ValueError):
    """A webhook that cannot be accepted: the message says why."""


def check_url(url: str, allowed: Iterable[str] | None = None) -> str:
    """HTTPS to a public address; anything else only where the sysadmin's allowlist says.

    With `allowed` (the `webhooks.allow_destinations` of the config, as the API passes it) a
    literal address or an obviously local name is refused here, for an early clear error;
    without it only the form is checked. Either way delivery checks again, by the address
    the name resolves to then (webhooks.destinations).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise WebhookRefused(f"{url!r} is not an http(s) URL")
    if parts.username or parts.password:
        raise WebhookRefused("put no credentials in the URL: requests are signed instead")
    if len(url) > 500:
        raise WebhookRefused("URL longer than 500 characters")
    port = parts.port or (443 if parts.scheme == "https" else 80)  # ValueError when not a port
    address = literal_address(host)
    plain_refused = WebhookRefused("webhooks use https (plain http only to an on-site receiver "
                                   "the operator allows)")
    if parts.scheme == "http" and address is None and not looks_local(host):
        raise plain_refused
    if allowed is None:
        return url
    policy = DestinationPolicy.from_config(allowed, public=parts.scheme == "https")
    if address is not None:
        reachable = policy.permits(address, port)
    elif looks_local(host):
        reachable = policy.may_reach_local_name(host, port)
    else:
        reachable = True  # a public name: its address is checked at each delivery
    if not reachable:
        if parts.scheme == "http":
            raise plain_refused
        raise WebhookRefused("destination not allowed: webhooks go to public addresses, or to "
                             "on-site receivers the operator allows")
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

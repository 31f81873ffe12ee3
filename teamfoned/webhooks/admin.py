"""What a webhook may be (destination, events) before the store keeps it; the secret is shown once, when created."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import Invalid
from teamfoned.store import webhooks_repo
from teamfoned.store.outbox import EVENTS
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


async def add_webhook(session: AsyncSession, tenant_id: uuid.UUID, url: str, events: list[str], *,
                      allowed: Iterable[str] | None = None) -> tuple[uuid.UUID, str]:
    """Check and store a webhook; returns its id and its signing secret (shown once).

    Both fields are checked before anything is written, and every refusal is named by its
    field (Invalid), so the API and the console say all that is wrong at once.
    """
    problems: list[tuple[str, str]] = []
    checked_url = checked_events = ""
    try:
        checked_url = check_url(url, allowed)
    except ValueError as exc:  # WebhookRefused, or a URL too broken to split
        problems.append(("url", str(exc)))
    try:
        checked_events = check_events(events)
    except ValueError as exc:
        problems.append(("events", str(exc)))
    if problems:
        raise Invalid(problems)
    secret = secrets.token_urlsafe(32)
    hook_id = await webhooks_repo.create_webhook(
        session, tenant_id, url=checked_url, events=checked_events, secret=secret,
        now=datetime.now(UTC))
    return hook_id, secret

"""Invitations: a one-time sign-in link for a member, as a URL and as a QR code for the terminal."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from urllib.parse import quote

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.config import HttpSettings
from teamfoned.store import web_sessions_repo
from teamfoned.web.security import PREFIX


def sign_in_url(base_url: str, secret: str) -> str:
    # In the query, not the path: the access log writes paths and never queries.
    return f"{base_url}{PREFIX}/sign-in?code={quote(secret)}"


async def invite(session: AsyncSession, http: HttpSettings, tenant_id: uuid.UUID,
                 member_id: uuid.UUID, *, now: datetime) -> tuple[str, datetime]:
    """A new sign-in link for the member: (its URL, when it expires). The URL is shown once."""
    secret, expires_at = await web_sessions_repo.create_sign_in_link(
        session, tenant_id, member_id, now=now,
        lifetime=timedelta(minutes=http.sign_in_link_minutes))
    return sign_in_url(http.base_url, secret), expires_at


def terminal_qr(url: str) -> str:
    """The URL as a QR code drawn with block characters, for a phone's camera."""
    out = io.StringIO()
    segno.make(url, error="m").terminal(out=out, compact=True)
    return out.getvalue()

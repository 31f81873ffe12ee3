"""Web sign-in: one-time links exchanged for browser sessions; both secrets are random and kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import NotFound
from teamfoned.store.engine import changed_rows
from teamfoned.store.tables import members, sign_in_links, web_sessions
from teamfoned.store.tokens_repo import Caller

# 32 random bytes (256 bits) for both: nothing to brute-force, so a plain hash is enough.
SECRET_BYTES = 32
# A session's last use is a hint for the member's list of devices: one write a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _looks_like_secret(text: str) -> bool:
    return 20 <= len(text) <= 100 and text.isascii()


@dataclass(frozen=True, slots=True)
class DeviceSession:
    """One signed-in browser as its member sees it (never its secret)."""

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime


async def create_sign_in_link(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID,
                              *, now: datetime, lifetime: timedelta) -> tuple[str, datetime]:
    """A new one-time secret for the member: (the secret, when it expires); only its hash is kept.

    The member's earlier links stay valid until used or expired (an admin may send a second
    one to another device); expired ones are removed here, so they never pile up.
    """
    found = await session.scalar(select(members.c.id).where(
        members.c.tenant_id == tenant_id, members.c.id == member_id))
    if found is None:
        raise NotFound("member")
    await session.execute(delete(sign_in_links).where(
        sign_in_links.c.member_id == member_id, sign_in_links.c.expires_at <= now))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    expires_at = now + lifetime
    await session.execute(insert(sign_in_links).values(
        id=uuid.uuid4(), tenant_id=tenant_id, member_id=member_id, secret_hash=_hash(secret),
        created_at=now, expires_at=expires_at))
    return secret, expires_at


async def redeem_sign_in_link(session: AsyncSession, secret: str, *, now: datetime,
                              lifetime: timedelta) -> str | None:
    """Exchange a link's secret for a new session's secret, or None (unknown, used or expired).

    The link's row is deleted in the same statement that finds it: of two concurrent
    redemptions exactly one deletes a row, so a link signs in once.
    """
    if not _looks_like_secret(secret):
        return None
    row = (await session.execute(
        delete(sign_in_links).where(sign_in_links.c.secret_hash == _hash(secret))
        .returning(sign_in_links.c.tenant_id, sign_in_links.c.member_id,
                   sign_in_links.c.expires_at))).first()
    if row is None or row.expires_at <= now:
        return None
    await session.execute(delete(web_sessions).where(
        web_sessions.c.member_id == row.member_id, web_sessions.c.expires_at <= now))
    session_secret = secrets.token_urlsafe(SECRET_BYTES)
    await session.execute(insert(web_sessions).values(
        id=uuid.uuid4(), tenant_id=row.tenant_id, member_id=row.member_id,
        secret_hash=_hash(session_secret), created_at=now, last_used_at=now,
        expires_at=now + lifetime))
    return session_secret


async def session_caller(session: AsyncSession, secret: str, *, now: datetime) -> Caller | None:
    """Who a session cookie's secret speaks for, or None (unknown, signed out, expired)."""
    if not _looks_like_secret(secret):
        return None
    row = (await session.execute(
        select(web_sessions.c.id, web_sessions.c.member_id, web_sessions.c.tenant_id,
               web_sessions.c.last_used_at, members.c.is_admin)
        .join(members, members.c.id == web_sessions.c.member_id)
        .where(web_sessions.c.secret_hash == _hash(secret), web_sessions.c.expires_at > now)
    )).first()
    if row is None:
        return None
    if row.last_used_at < now - LAST_USED_RESOLUTION:
        await session.execute(update(web_sessions).where(web_sessions.c.id == row.id).values(
            last_used_at=now))
    return Caller(token_id=row.id, member_id=row.member_id, tenant_id=row.tenant_id,
                  is_admin=bool(row.is_admin))


async def member_sessions(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *,
                          now: datetime) -> list[DeviceSession]:
    """The member's signed-in browsers that still work, most recently used first."""
    rows = (await session.execute(
        select(web_sessions.c.id, web_sessions.c.created_at, web_sessions.c.last_used_at,
               web_sessions.c.expires_at)
        .where(web_sessions.c.tenant_id == tenant_id, web_sessions.c.member_id == member_id,
               web_sessions.c.expires_at > now)
        .order_by(web_sessions.c.last_used_at.desc(), web_sessions.c.id))).all()
    return [DeviceSession(*row) for row in rows]


async def sign_out(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID,
                   session_id: uuid.UUID) -> None:
    """End one of the member's own sessions; another member's is NotFound, like a missing one."""
    done = await changed_rows(session, delete(web_sessions).where(
        web_sessions.c.id == session_id, web_sessions.c.tenant_id == tenant_id,
        web_sessions.c.member_id == member_id))
    if done == 0:
        raise NotFound("session")


async def sign_out_everywhere(session: AsyncSession, tenant_id: uuid.UUID,
                              member_id: uuid.UUID) -> int:
    """End every session of the member and void their unused links; how many sessions ended."""
    found = await session.scalar(select(members.c.id).where(
        members.c.tenant_id == tenant_id, members.c.id == member_id))
    if found is None:
        raise NotFound("member")
    await session.execute(delete(sign_in_links).where(
        sign_in_links.c.tenant_id == tenant_id, sign_in_links.c.member_id == member_id))
    return await changed_rows(session, delete(web_sessions).where(
        web_sessions.c.tenant_id == tenant_id, web_sessions.c.member_id == member_id))

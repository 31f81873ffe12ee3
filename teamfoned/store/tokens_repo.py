"""API tokens: random, shown once, kept only as a SHA-256 hash; a token reads exactly what its member may."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import Invalid, NotFound
from teamfoned.store.engine import changed_rows
from teamfoned.store.tables import api_tokens, members, tenants

# A recognisable prefix lets secret scanners and people spot a leaked token.
TOKEN_PREFIX = "tfd_"
# 32 random bytes: 256 bits, well above the 128 the spec asks for.
TOKEN_BYTES = 32
# last_used_at is a hint for breach handling, not an audit trail: one write a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    # A plain hash suffices: the token has 256 bits of entropy, so there is nothing to brute-force.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(text: str) -> bool:
    return text.startswith(TOKEN_PREFIX) and 20 <= len(text) <= 200


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a valid token speaks for."""

    token_id: uuid.UUID
    member_id: uuid.UUID
    tenant_id: uuid.UUID
    is_admin: bool


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """Everything about a token except the token: for listing and breach handling."""

    id: uuid.UUID
    tenant: str
    member_id: uuid.UUID
    member_name: str
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


async def create_token(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    member_id: uuid.UUID,
    *,
    now: datetime,
    expires_at: datetime | None = None,
    label: str | None = None,
) -> tuple[uuid.UUID, str]:
    """A new token for the member: (token id, the token). The token is not kept anywhere."""
    if expires_at is not None and expires_at <= now:
        raise Invalid([("expires_at", "must be in the future")])
    found = await session.scalar(select(members.c.id).where(
        members.c.tenant_id == tenant_id, members.c.id == member_id))
    if found is None:
        raise NotFound("member")
    token = new_token()
    token_id = uuid.uuid4()
    await session.execute(insert(api_tokens).values(
        id=token_id, tenant_id=tenant_id, member_id=member_id, token_hash=token_hash(token),
        label=label, created_at=now, expires_at=expires_at))
    return token_id, token


@dataclass(frozen=True, slots=True)
class Grant:
    """A valid token as the database holds it: who it speaks for, and until when."""

    caller: Caller
    expires_at: datetime | None
    last_used_at: datetime | None


# Every request with a token not in the API's cache runs this: built once (see own_availability).
_FIND_TOKEN = (
    select(api_tokens.c.id, api_tokens.c.member_id, api_tokens.c.tenant_id,
           api_tokens.c.expires_at, api_tokens.c.last_used_at, members.c.is_admin)
    .join(members, members.c.id == api_tokens.c.member_id)
    .where(api_tokens.c.token_hash == bindparam("digest"),
           or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > bindparam("now")))
)


async def find_token(session: AsyncSession, digest: str, *, now: datetime) -> Grant | None:
    """The token with this hash, unless it is unknown, revoked or expired: one read, no write."""
    row = (await session.execute(_FIND_TOKEN, {"digest": digest, "now": now})).first()
    if row is None:
        return None
    return Grant(Caller(token_id=row.id, member_id=row.member_id, tenant_id=row.tenant_id,
                        is_admin=bool(row.is_admin)), row.expires_at, row.last_used_at)


async def authenticate(session: AsyncSession, token: str, *, now: datetime) -> Caller | None:
    """The caller a token speaks for, or None (unknown, revoked, expired or malformed); records
    the use itself (the API batches its uses instead, see api.token_uses)."""
    if not looks_like_token(token):
        return None
    grant = await find_token(session, token_hash(token), now=now)
    if grant is None:
        return None
    if grant.last_used_at is None or grant.last_used_at < now - LAST_USED_RESOLUTION:
        await record_uses(session, {grant.caller.token_id: now})
    return grant.caller


async def record_uses(session: AsyncSession, uses: Mapping[uuid.UUID, datetime]) -> None:
    """Write each token's last use (one statement for the whole batch); an older time, or a
    token revoked since, changes nothing."""
    if not uses:
        return
    await session.execute(
        update(api_tokens)
        .where(api_tokens.c.id == bindparam("use_token"),
               or_(api_tokens.c.last_used_at.is_(None),
                   api_tokens.c.last_used_at < bindparam("use_at")))
        .values(last_used_at=bindparam("use_at")),
        [{"use_token": token_id, "use_at": at} for token_id, at in uses.items()])


async def revoke_token(session: AsyncSession, token_id: uuid.UUID, *,
                       tenant_id: uuid.UUID | None = None) -> None:
    """Delete the token (within `tenant_id` when given: the API; any tenant: the CLI)."""
    stmt = delete(api_tokens).where(api_tokens.c.id == token_id)
    if tenant_id is not None:
        stmt = stmt.where(api_tokens.c.tenant_id == tenant_id)
    if await changed_rows(session, stmt) == 0:
        raise NotFound("token")


async def list_tokens(session: AsyncSession, *, tenant_id: uuid.UUID | None = None,
                      member_id: uuid.UUID | None = None) -> list[TokenInfo]:
    stmt = (
        select(api_tokens.c.id, tenants.c.name, api_tokens.c.member_id, members.c.name,
               api_tokens.c.label, api_tokens.c.created_at, api_tokens.c.last_used_at,
               api_tokens.c.expires_at)
        .join(members, members.c.id == api_tokens.c.member_id)
        .join(tenants, tenants.c.id == api_tokens.c.tenant_id)
        .order_by(tenants.c.name, members.c.name, api_tokens.c.created_at, api_tokens.c.id)
    )
    if tenant_id is not None:
        stmt = stmt.where(api_tokens.c.tenant_id == tenant_id)
    if member_id is not None:
        stmt = stmt.where(api_tokens.c.member_id == member_id)
    return [TokenInfo(*row) for row in (await session.execute(stmt)).all()]

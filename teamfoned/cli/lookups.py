"""The console names things; the store knows ids: tenants, teams and members found by name, in the administrator's words when not found."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.cli.base import UserError
from teamfoned.domain.errors import NotFound
from teamfoned.store import directory_repo, members_repo, tenants_repo


async def tenant_id(session: AsyncSession, name: str) -> uuid.UUID:
    found = await tenants_repo.tenant_named(session, name)
    if found is None:
        raise UserError(f"no tenant named {name!r}")
    return found


async def team_id(session: AsyncSession, tenant: uuid.UUID, name: str) -> uuid.UUID:
    found = await directory_repo.team_named(session, tenant, name)
    if found is None:
        raise UserError(f"no team named {name!r} in this tenant")
    return found


async def member_id(session: AsyncSession, tenant: uuid.UUID, ref: str) -> uuid.UUID:
    """A member by id, or by name when exactly one member of the tenant has it."""
    try:
        as_id = uuid.UUID(ref)
    except ValueError:
        ids = await members_repo.members_named(session, tenant, ref)
        if len(ids) > 1:
            raise UserError(f"{len(ids)} members are named {ref!r}: use the member id") from None
        if not ids:
            raise UserError(f"no member named {ref!r} in this tenant") from None
        return ids[0]
    try:
        await members_repo.member_exists(session, tenant, as_id)
    except NotFound:
        raise UserError(f"no member with id {ref} in this tenant") from None
    return as_id

"""Tenants: created once by name, found by name, listed; checked by the domain's rules before written."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import AlreadyExists
from teamfoned.domain.names import check_name
from teamfoned.domain.tenants import DEFAULT_RETENTION_DAYS, check_retention
from teamfoned.store.engine import changed_rows
from teamfoned.store.tables import tenants


async def tenant_named(session: AsyncSession, name: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(select(tenants.c.id).where(tenants.c.name == name))
    return found


async def create_tenant(session: AsyncSession, name: str, *, retention_days: int = DEFAULT_RETENTION_DAYS,
                        now: datetime) -> uuid.UUID:
    check_name("tenant", name)
    check_retention(retention_days)
    if await tenant_named(session, name) is not None:
        raise AlreadyExists(f"tenant {name!r} already exists")
    new = uuid.uuid4()
    await session.execute(insert(tenants).values(id=new, name=name, retention_days=retention_days,
                                                 created_at=now))
    return new


async def set_retention(session: AsyncSession, tenant_id: uuid.UUID, days: int) -> bool:
    """Keep the tenant's call history `days` days; False when it already was."""
    check_retention(days)
    done = await changed_rows(session, update(tenants).where(
        tenants.c.id == tenant_id, tenants.c.retention_days != days).values(retention_days=days))
    return bool(done)


async def set_phone_pin_required(session: AsyncSession, tenant_id: uuid.UUID, required: bool) -> bool:
    """Whether the availability line asks the tenant's members for their PIN; False when unchanged."""
    done = await changed_rows(session, update(tenants).where(
        tenants.c.id == tenant_id, tenants.c.phone_pin_required != required)
        .values(phone_pin_required=required))
    return bool(done)


async def list_tenants(session: AsyncSession) -> list[Any]:
    """Every tenant's id, name and retention days, by name."""
    return list((await session.execute(
        select(tenants.c.id, tenants.c.name, tenants.c.retention_days)
        .order_by(tenants.c.name))).all())

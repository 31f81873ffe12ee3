"""SIP endpoints by name: the system administrator assigns each to one tenant, whose members alone may have it as their phone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import AlreadyExists, Invalid, NotFound
from teamfoned.domain.phones import MemberPhone, PhoneKind
from teamfoned.store.tables import members, sip_endpoints, tenants


@dataclass(frozen=True, slots=True)
class Assignment:
    name: str
    tenant_id: uuid.UUID
    tenant_name: str
    members: int  # members of that tenant with it as their phone


async def assign(session: AsyncSession, name: str, tenant_id: uuid.UUID) -> bool:
    """Give the endpoint to the tenant; False when it has it already.

    The name is checked by the caller (domain.phones.check_endpoint_name: never the trunk).
    """
    owner = await session.scalar(select(sip_endpoints.c.tenant_id).where(
        sip_endpoints.c.name == name))
    if owner == tenant_id:
        return False
    if owner is not None:
        owner_name = await session.scalar(select(tenants.c.name).where(tenants.c.id == owner))
        raise AlreadyExists(f"endpoint {name} is assigned to tenant {owner_name}: release it first")
    await session.execute(insert(sip_endpoints).values(name=name, tenant_id=tenant_id))
    return True


async def release(session: AsyncSession, name: str) -> None:
    """Take the endpoint from its tenant; refused while one of its members has it as phone."""
    owner = await session.scalar(select(sip_endpoints.c.tenant_id).where(
        sip_endpoints.c.name == name))
    if owner is None:
        raise NotFound("assigned endpoint")
    users = await _users(session, owner, name)
    if users:
        raise Invalid.value("endpoint", f"endpoint {name} is the phone of {users} member(s) of its "
                                        "tenant: give them another phone first")
    await session.execute(delete(sip_endpoints).where(sip_endpoints.c.name == name))


async def list_assignments(session: AsyncSession,
                           tenant_id: uuid.UUID | None = None) -> list[Assignment]:
    """Every assigned endpoint (or the tenant's), by name."""
    users = (select(func.count()).select_from(members)
             .where(members.c.tenant_id == sip_endpoints.c.tenant_id,
                    members.c.phone_kind == PhoneKind.SIP.value,
                    members.c.phone == sip_endpoints.c.name)
             .scalar_subquery())
    stmt = (select(sip_endpoints.c.name, sip_endpoints.c.tenant_id, tenants.c.name, users)
            .join(tenants, tenants.c.id == sip_endpoints.c.tenant_id)
            .order_by(sip_endpoints.c.name))
    if tenant_id is not None:
        stmt = stmt.where(sip_endpoints.c.tenant_id == tenant_id)
    return [Assignment(*row) for row in (await session.execute(stmt)).all()]


async def endpoints_of(session: AsyncSession, tenant_id: uuid.UUID) -> set[str]:
    return set((await session.scalars(select(sip_endpoints.c.name).where(
        sip_endpoints.c.tenant_id == tenant_id))).all())


async def check_phone_allowed(session: AsyncSession, tenant_id: uuid.UUID,
                              phone: MemberPhone) -> None:
    """A SIP phone must be an endpoint assigned to the member's tenant (numbers pass as they are).

    The refusal does not say whether the endpoint exists or is another tenant's.
    """
    if phone.kind != PhoneKind.SIP:
        return
    found = await session.scalar(select(sip_endpoints.c.name).where(
        sip_endpoints.c.name == phone.phone, sip_endpoints.c.tenant_id == tenant_id))
    if found is None:
        raise Invalid.value("phone", f"phone refused: SIP endpoint {phone.phone!r} is not assigned "
                                     "to this tenant (the system administrator assigns endpoints)")


async def _users(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> int:
    return int(await session.scalar(select(func.count()).select_from(members).where(
        members.c.tenant_id == tenant_id, members.c.phone_kind == PhoneKind.SIP.value,
        members.c.phone == name)) or 0)

"""A member's own availability change in one statement that writes it and returns the whole profile.

The members' API calls this on its busiest path: one round trip instead of an existence
check, an update (or insert), and the two reads of the profile that used to follow.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningInsert

from teamfoned.domain.availability import AvailabilityReason, AwayReason
from teamfoned.domain.errors import NotFound
from teamfoned.domain.members import check_until
from teamfoned.store.line_signals import notify_line
from teamfoned.store.members_repo import Profile, TeamRef
from teamfoned.store.tables import availability, members, memberships, teams
from teamfoned.store.types import UTCDateTime

_MEMBER_ID = bindparam("member_id", type_=members.c.id.type)
_TENANT_ID = bindparam("tenant_id", type_=members.c.tenant_id.type)


def _teams_json(dialect: str) -> ColumnElement[Any]:
    """The member's teams as one JSON array of [id, name, label], by name.

    RETURNING yields one row per written row, so the teams travel as one aggregated value;
    each database spells the aggregate its own way. No join: a RETURNING clause is compiled
    with bare column names, which a join would make ambiguous; each subquery reads one table.
    """
    team = teams.alias("t")
    mine = (team.c.tenant_id == _TENANT_ID) & team.c.id.in_(
        select(memberships.c.team_id).where(memberships.c.member_id == _MEMBER_ID,
                                            memberships.c.tenant_id == _TENANT_ID))
    joined = team
    if dialect == "postgresql":
        entry = func.json_build_array(team.c.id, team.c.name, team.c.label)
        aggregate = func.json_agg(postgresql.aggregate_order_by(entry, team.c.name))
        return select(aggregate).select_from(joined).where(mine).scalar_subquery().label("teams")
    # SQLite before 3.44 has no ORDER BY inside an aggregate: it aggregates an ordered subquery.
    ordered = (select(team.c.id, team.c.name, team.c.label).select_from(joined).where(mine)
               .order_by(team.c.name).subquery("mt"))
    entry = func.json_array(ordered.c.id, ordered.c.name, ordered.c.label)
    return select(func.json_group_array(entry)).scalar_subquery().label("teams")


def _member_column(column: str) -> ColumnElement[Any]:
    # The member's own row, by id: a RETURNING clause cannot correlate a subquery on SQLite.
    member = members.alias("m")
    value = member.c.photo.is_not(None) if column == "has_photo" else member.c[column]
    return select(value).where(member.c.id == _MEMBER_ID).scalar_subquery().label(column)


async def set_own_availability(session: AsyncSession, tenant_id: uuid.UUID,
                               member_id: uuid.UUID, available: bool, until: datetime | None,
                               *, now: datetime, away: AwayReason | None = None) -> Profile:
    """Set the member's availability (manual) and return their profile; NotFound when they are
    no member of the tenant (then nothing is written). The same write as
    members_repo.set_availability: `away` is kept only with "unavailable"."""
    check_until(until, now)
    # `until` only limits availability; for "unavailable" it has no meaning, so it is dropped.
    # A manual change holds until the member's schedule reaches its next boundary.
    stored_until = until if available else None
    dialect = session.get_bind().dialect.name
    # A change to available wakes the callers waiting in the member's teams' lines: on
    # PostgreSQL in the same statement (the busiest path stays one round trip), delivered at
    # commit, so they look again once it is written.
    statement = _statement(dialect, signal=available and dialect == "postgresql")
    params = {"member_id": member_id, "tenant_id": tenant_id, "available": available,
              "until": stored_until, "reason": AvailabilityReason.MANUAL.value, "now": now,
              "away": None if available or away is None else away.value}
    row = (await session.execute(statement, params)).first()
    if row is None:
        raise NotFound("member")
    return Profile(id=row.member_id, tenant_id=tenant_id, name=row.name, phone=row.phone,
                   phone_kind=row.phone_kind, is_admin=bool(row.is_admin),
                   has_photo=bool(row.has_photo), available=bool(row.available),
                   until=row.until, changed_at=row.changed_at, reason=row.reason,
                   away_reason=row.away_reason,
                   teams=[TeamRef(uuid.UUID(str(t)), name, label)
                          for t, name, label in _json_list(row.teams)])


@cache
def _statement(dialect: str, *, signal: bool) -> ReturningInsert[Any]:
    """The upsert for one database, built once with bound parameters: building it per request
    (its subqueries' column collections above all) was a third of the request's CPU in the
    API's profile (docs/benchmarks.md)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Written only when the member is the tenant's: a foreign id selects no row, so writes none.
    source = select(members.c.id, bindparam("available", type_=Boolean()),
                    bindparam("until", type_=UTCDateTime()), bindparam("reason", type_=String()),
                    bindparam("now", type_=UTCDateTime()), bindparam("away", type_=String()),
                    ).where(members.c.id == _MEMBER_ID, members.c.tenant_id == _TENANT_ID)
    upsert = insert(availability).from_select(
        ["member_id", "available", "until", "reason", "changed_at", "away_reason"], source)
    return upsert.on_conflict_do_update(
        index_elements=[availability.c.member_id],
        set_={name: upsert.excluded[name]
              for name in ("available", "until", "reason", "changed_at", "away_reason")},
    ).returning(
        availability.c.member_id, availability.c.available, availability.c.until,
        availability.c.changed_at, availability.c.reason, availability.c.away_reason,
        *(_member_column(column) for column in ("name", "phone", "phone_kind", "is_admin", "has_photo")),
        _teams_json(dialect),
        *([notify_line().label("line_signalled")] if signal else []),
    )


def _json_list(value: Any) -> list[Any]:
    # PostgreSQL's driver decodes json itself (NULL for no teams); SQLite returns the text.
    if value is None:
        return []
    decoded = json.loads(value) if isinstance(value, str) else value
    return list(decoded)

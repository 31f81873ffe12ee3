"""A tenant's personal data, all of it, as plain JSON values: what a customer who leaves takes with them."""

from __future__ import annotations

import base64
import json
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import NotFound
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.directory_repo import settings_columns, settings_of
from teamfoned.store.tables import (
    api_tokens,
    attempts,
    availability,
    availability_schedules,
    calls,
    member_phone_line,
    members,
    memberships,
    team_holidays,
    team_hours,
    team_numbers,
    teams,
    tenants,
    webhook_deliveries,
    webhooks,
)

FORMAT = "teamfoned-export"
# 2: availability reason, member schedules, team time zone, closed fallback, auto-unavailable,
# confirmation recording, opening hours and holidays, who handled a missed call.
# 3: webhooks (never their secret) and their deliveries with the payloads sent.
VERSION = 3


def _period(weekday: int, starts: str, ends: str) -> dict[str, Any]:
    return {"weekday": weekday, "starts": starts, "ends": ends}


def _periods(rows: list[Any]) -> list[dict[str, Any]]:
    found = []
    for weekday, starts, ends in sorted(rows):
        try:
            WeeklyPeriod(weekday, starts, ends)
        except ValueError:
            continue  # a hand-edited row routing ignores too
        found.append(_period(weekday, starts, ends))
    return found


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _id(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


async def tenant_export(session: AsyncSession, tenant_id: uuid.UUID, *,
                        now: datetime) -> dict[str, Any]:
    tenant = (await session.execute(select(tenants).where(tenants.c.id == tenant_id))).first()
    if tenant is None:
        raise NotFound("tenant")

    tokens: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for t in (await session.execute(
            select(api_tokens).where(api_tokens.c.tenant_id == tenant_id)
            .order_by(api_tokens.c.created_at, api_tokens.c.id))).all():
        # The token's hash is not personal data and would only help an attacker: left out.
        tokens[t.member_id].append({
            "id": str(t.id), "label": t.label, "created_at": _time(t.created_at),
            "last_used_at": _time(t.last_used_at), "expires_at": _time(t.expires_at)})

    # The PIN's hash is left out like a token's; whether one is set is the member's datum.
    phone_line = {row.member_id: {
        "language": row.language, "pin_set": row.pin_hash is not None,
        "pin_failures": row.pin_failures, "changed_at": _time(row.changed_at)}
        for row in (await session.execute(select(member_phone_line).where(
            member_phone_line.c.tenant_id == tenant_id))).all()}

    schedule_rows: dict[uuid.UUID, list[Any]] = defaultdict(list)
    zones: dict[uuid.UUID, str] = {}
    for row in (await session.execute(
            select(availability_schedules).where(availability_schedules.c.tenant_id == tenant_id)
            .order_by(availability_schedules.c.member_id, availability_schedules.c.weekday,
                      availability_schedules.c.starts))).all():
        schedule_rows[row.member_id].append((row.weekday, row.starts, row.ends))
        zones.setdefault(row.member_id, row.timezone)

    people = []
    for m in (await session.execute(
            select(members, availability.c.available, availability.c.until,
                   availability.c.changed_at, availability.c.reason,
                   availability.c.away_reason)
            .outerjoin(availability, availability.c.member_id == members.c.id)
            .where(members.c.tenant_id == tenant_id)
            .order_by(members.c.name, members.c.id))).all():
        people.append({
            "id": str(m.id), "name": m.name, "phone": m.phone, "phone_kind": m.phone_kind,
            "is_admin": bool(m.is_admin), "created_at": _time(m.created_at),
            "photo": None if m.photo is None else {
                "content_type": m.photo_type,
                "data_base64": base64.b64encode(m.photo).decode("ascii")},
            "availability": None if m.available is None else {
                "available": bool(m.available), "until": _time(m.until),
                "changed_at": _time(m.changed_at), "reason": m.reason,
                "away_reason": m.away_reason},
            "schedule": None if m.id not in zones else {
                "timezone": zones[m.id], "periods": _periods(schedule_rows[m.id])},
            "tokens": tokens.get(m.id, []),
            "phone_line": phone_line.get(m.id),
        })

    numbers: dict[uuid.UUID, list[str]] = defaultdict(list)
    for number, team_id in (await session.execute(
            select(team_numbers.c.number, team_numbers.c.team_id)
            .where(team_numbers.c.tenant_id == tenant_id)
            .order_by(team_numbers.c.number))).all():
        numbers[team_id].append(number)
    hours: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for h in (await session.execute(select(team_hours).where(
            team_hours.c.tenant_id == tenant_id))).all():
        hours[h.team_id].append((h.weekday, h.opens, h.closes))
    holidays: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for d in (await session.execute(
            select(team_holidays).where(team_holidays.c.tenant_id == tenant_id)
            .order_by(team_holidays.c.day))).all():
        holidays[d.team_id].append({"date": d.day.isoformat(), "name": d.name})
    # Every setting under its column's name, as the store keeps it: a new setting is exported
    # without a line here (its schema entry is in api/export.schema.json).
    team_list = [{
        "id": str(t.id), "name": t.name, **settings_columns(settings_of(t)),
        "hours": _periods(hours.get(t.id, [])),
        "holidays": holidays.get(t.id, []), "numbers": numbers.get(t.id, []),
        "created_at": _time(t.created_at),
    } for t in (await session.execute(select(teams).where(teams.c.tenant_id == tenant_id)
                                      .order_by(teams.c.name))).all()]

    member_of = [{"team_id": str(r.team_id), "member_id": str(r.member_id),
                  "priority": r.priority, "tier": r.tier}
                 for r in (await session.execute(
                     select(memberships).where(memberships.c.tenant_id == tenant_id)
                     .order_by(memberships.c.team_id, memberships.c.priority,
                               memberships.c.member_id))).all()]

    legs: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for a in (await session.execute(
            select(attempts).where(attempts.c.tenant_id == tenant_id)
            .order_by(attempts.c.started_at, attempts.c.id))).all():
        legs[a.call_id].append({
            "id": str(a.id), "member_id": _id(a.member_id), "node": a.node,
            "started_at": _time(a.started_at), "answered_at": _time(a.answered_at),
            "ended_at": _time(a.ended_at), "result": a.result})
    history = [{
        "id": str(c.id), "team_id": _id(c.team_id), "node": c.node,
        "caller_number": c.caller_number, "dialled_number": c.dialled_number,
        "started_at": _time(c.started_at), "answered_at": _time(c.answered_at),
        "ended_at": _time(c.ended_at), "outcome": c.outcome, "wait_seconds": c.wait_seconds,
        "talk_seconds": c.talk_seconds, "answered_by": _id(c.answered_by),
        "handled_by": _id(c.handled_by), "handled_at": _time(c.handled_at),
        "attempts": legs.get(c.id, []),
    } for c in (await session.execute(select(calls).where(calls.c.tenant_id == tenant_id)
                                      .order_by(calls.c.started_at, calls.c.id))).all()]

    # The signing secret is the tenant's key, not personal data: it stays out.
    hooks = [{"id": str(h.id), "url": h.url, "events": [e for e in h.events.split(",") if e],
              "created_at": _time(h.created_at)}
             for h in (await session.execute(
                 select(webhooks.c.id, webhooks.c.url, webhooks.c.events, webhooks.c.created_at)
                 .where(webhooks.c.tenant_id == tenant_id)
                 .order_by(webhooks.c.created_at, webhooks.c.id))).all()]
    outbox = webhook_deliveries
    sent = [{"id": str(r.id), "webhook_id": str(r.webhook_id), "event": r.event,
             "payload": json.loads(r.payload), "created_at": _time(r.created_at),
             "attempts": r.attempts, "next_attempt_at": _time(r.next_attempt_at),
             "delivered_at": _time(r.delivered_at), "last_error": r.last_error}
            for r in (await session.execute(
                select(outbox).where(outbox.c.tenant_id == tenant_id)
                .order_by(outbox.c.created_at, outbox.c.id))).all()]

    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": now.isoformat(),
        "tenant": {"id": str(tenant.id), "name": tenant.name,
                   "retention_days": tenant.retention_days,
                   "created_at": _time(tenant.created_at)},
        "members": people,
        "teams": team_list,
        "memberships": member_of,
        "calls": history,
        "webhooks": hooks,
        "deliveries": sent,
    }

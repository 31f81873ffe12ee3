"""The tenant export: one JSON document that validates against the versioned schema shipped beside this file."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store.export_repo import tenant_export

SCHEMA_FILE = "export.schema.json"


@cache
def export_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("teamfoned.api").joinpath(SCHEMA_FILE).read_text())
    return schema


async def export_document(session: AsyncSession, tenant_id: uuid.UUID, *,
                          now: datetime) -> dict[str, Any]:
    document = await tenant_export(session, tenant_id, now=now)
    # Say which schema the document follows, so a reader years later can check it.
    return {"schema": export_schema()["$id"], **document}


def member_document(document: dict[str, Any], member_id: uuid.UUID) -> dict[str, Any]:
    """One member's own part of the tenant's export: their record, their teams, the calls they
    took part in with only their own attempts (a teammate's attempts are the teammate's data)."""
    me = str(member_id)
    calls = []
    for call in document["calls"]:
        mine = [a for a in call["attempts"] if a["member_id"] == me]
        if mine or me in (call["answered_by"], call["handled_by"]):
            calls.append({**call, "attempts": mine})
    memberships = [m for m in document["memberships"] if m["member_id"] == me]
    in_teams = {m["team_id"] for m in memberships}
    return {
        "schema": document["schema"], "format": document["format"],
        "version": document["version"], "exported_at": document["exported_at"],
        "member": next(m for m in document["members"] if m["id"] == me),
        "teams": [{"id": t["id"], "name": t["name"], "label": t.get("label")}
                  for t in document["teams"] if t["id"] in in_teams],
        "memberships": memberships,
        "calls": calls,
    }

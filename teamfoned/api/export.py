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

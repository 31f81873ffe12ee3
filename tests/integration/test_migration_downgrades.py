"""Today's migrations come off again without losing a row: a downgrade that rebuilt SQLite's
teams table (batch mode, foreign keys on) used to cascade into every team number and membership."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection

from teamfoned.store.engine import create_engine
from teamfoned.store.migrate import alembic_config, current_revision, upgrade
from teamfoned.store.tables import members, memberships, team_numbers, teams, tenants

NOW = datetime(2030, 5, 6, 12, 0, tzinfo=UTC)


async def _counts(engine) -> tuple[int, int, int]:
    async with engine.connect() as conn:
        return tuple([(await conn.execute(select(func.count()).select_from(t))).scalar_one()
                      for t in (teams, team_numbers, memberships)])  # type: ignore[return-value]


async def test_the_waiting_lines_migrations_go_down_and_up_keeping_every_team_number(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        tenant, team, member = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(insert(tenants).values(id=tenant, name="acme", retention_days=30, created_at=NOW))
            await conn.execute(insert(teams).values(
                id=team, tenant_id=tenant, name="desk", label="Desk", strategy="linear", ring_time_s=20,
                max_wait_s=60, wrap_up_s=0, confirm_calls=False, fallback_kind="dialplan",
                created_at=NOW))
            await conn.execute(insert(team_numbers).values(number="+31201234567", tenant_id=tenant, team_id=team))
            await conn.execute(insert(members).values(id=member, tenant_id=tenant, name="Ann", phone="+31612345678",
                                                      phone_kind="e164", is_admin=False, created_at=NOW))
            await conn.execute(insert(memberships).values(id=uuid.uuid4(), tenant_id=tenant, team_id=team,
                                                          member_id=member, priority=1))
        assert await _counts(engine) == (1, 1, 1)

        def down(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0009")

        async with engine.begin() as conn:
            await conn.run_sync(down)
        assert await current_revision(engine) == "0009"
        assert await _counts(engine) == (1, 1, 1)
        # The routing directory still hears of a change to a team (0009's triggers are whole).
        async with engine.begin() as conn:
            before = (await conn.execute(text("SELECT version FROM directory_version"))).scalar_one()
            await conn.execute(teams.update().values(label="Front desk"))
            after = (await conn.execute(text("SELECT version FROM directory_version"))).scalar_one()
        assert after > before

        await upgrade(engine)
        assert await _counts(engine) == (1, 1, 1)
    finally:
        await engine.dispose()

"""Availability schedules to the minute with an injected clock, on SQLite and PostgreSQL."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from teamfoned.domain.phones import MemberPhone
from teamfoned.store import members_repo, tenants_repo
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.schedules import apply_schedules
from teamfoned.store.tables import availability, availability_schedules

AMS = ZoneInfo("Europe/Amsterdam")


def at(day, hour, minute=0):
    return datetime(2030, 1, day, hour, minute, tzinfo=AMS)  # 2030-01-07 is a Monday


async def test_schedule_boundaries_and_a_manual_change_that_holds(migrated_db_url):
    engine = create_engine(migrated_db_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            tenant = await tenants_repo.create_tenant(session, "acme", now=datetime.now(UTC))
            member = await members_repo.create_member(session, tenant, "Alice", MemberPhone("e164", "+31610000001"),
                                                      is_admin=False, now=datetime.now(UTC))
            for day in range(5):
                await session.execute(availability_schedules.insert().values(
                    tenant_id=tenant, member_id=member, weekday=day, starts="08:00", ends="17:00",
                    timezone="Europe/Amsterdam"))

        async def tick(now):
            async with sessions() as session, session.begin():
                changes = await apply_schedules(session, now=now)
            async with sessions() as session:
                row = (await session.execute(select(availability).where(availability.c.member_id == member))).first()
            return [c.available for c in changes], row.available

        assert await tick(at(7, 7, 59)) == ([False], False)   # Sunday's... last boundary: Friday 17:00
        assert await tick(at(7, 8, 0)) == ([True], True)      # Monday 08:00, to the minute
        assert await tick(at(7, 12, 0)) == ([], True)         # nothing new to apply
        # The member goes off by hand at noon: that holds through the afternoon ...
        async with sessions() as session, session.begin():
            await members_repo.set_availability(session, tenant, member, False, None,
                                                now=datetime.now(UTC))
        assert await tick(at(7, 16, 59)) == ([], False)
        # ... until the next boundary (17:00), where the schedule takes over again.
        assert await tick(at(7, 17, 0)) == ([False], False)
        assert await tick(at(8, 8, 0)) == ([True], True)
        # Saturday: no period, the last boundary stays Friday's 17:00.
        assert await tick(at(12, 10, 0)) == ([False], False)
    finally:
        await engine.dispose()

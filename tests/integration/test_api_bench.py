"""Bench for the HTTP API tests: two seeded tenants on the real database, the API served by uvicorn on a free port.

No tests here: the other test_api_* modules import these fixtures and helpers.
"""

from __future__ import annotations

import asyncio
import io
import socket
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import insert, select, update

from teamfoned.api import ApiServer, create_app
from teamfoned.api.photos import JPEG_QUALITY
from teamfoned.config import Settings, settings_from_dict
from teamfoned.domain.members import PhonePolicy
from teamfoned.domain.team_settings import TeamSettings
from teamfoned.store import directory_repo, endpoints_repo, members_repo, tenants_repo
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.tables import Base, attempts, calls, members
from teamfoned.store.tokens_repo import create_token


def _raw_png(width: int, height: int) -> bytes:
    """A grey PNG written chunk by chunk: any size the header can say, even an invalid one."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _pillow(fmt: str, width: int, height: int, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 128).save(out, fmt, **options)
    return out.getvalue()


def png_bytes(width: int = 2, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG, written as the API stores it; a side of 0 gives an unreadable one."""
    if width <= 0 or height <= 0:
        return _raw_png(width, height)
    return _pillow("PNG", width, height)


def jpeg_bytes(width: int = 4, height: int = 4) -> bytes:
    """A real (tiny, grey) JPEG, written as the API stores it: uploading it stores the same bytes."""
    return _pillow("JPEG", width, height, quality=JPEG_QUALITY)


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Person:
    id: uuid.UUID
    name: str
    phone: str
    token: str | None = None


@dataclass
class World:
    """What the seed created; names are unique so tests can grep for them."""

    acme: uuid.UUID
    globex: uuid.UUID
    people: dict[str, Person]
    teams: dict[str, uuid.UUID]
    calls: dict[str, uuid.UUID] = field(default_factory=dict)

    def id(self, who: str) -> uuid.UUID:
        return self.people[who].id

    def auth(self, who: str) -> dict[str, str]:
        token = self.people[who].token
        assert token is not None, who
        return {"Authorization": f"Bearer {token}"}


PHOTO = png_bytes(5, 7)
ACME = {  # name: (phone, is_admin, available, until offset, teams)
    "Ann Admin": ("+31612345671", True, True, None, ("desk",)),
    "Bob Bakker": ("+31612345672", False, True, timedelta(hours=-1), ("desk",)),
    "Carol Care": ("+31612345673", False, True, None, ("care",)),
    "Dave Desk": ("sip:desk-dave", False, True, None, ("desk",)),
    "Erin Idle": ("+31612345674", False, True, timedelta(hours=2), ("desk",)),
    "Frank Off": ("+31612345675", False, False, None, ("desk",)),
}
GLOBEX = {
    "Gina Globex": ("+31612345681", True, True, None, ("ops",)),
    "Hank Globex": ("+31612345682", False, True, None, ("ops",)),
}
SHORT = {"Ann Admin": "ann", "Bob Bakker": "bob", "Carol Care": "carol", "Dave Desk": "dave",
         "Erin Idle": "erin", "Frank Off": "frank", "Gina Globex": "gina", "Hank Globex": "hank"}
WITH_TOKENS = ("ann", "bob", "carol", "gina", "hank")
# The SIP endpoints the system administrator gave each tenant (a member's desk phone must be one).
ENDPOINTS = {"acme": ("desk-dave", "bob-desk"), "globex": ("desk-g7",)}


async def seed(sessions: Any, settings: Settings, now: datetime) -> World:
    phones = PhonePolicy(settings.telephony.allowed_countries)
    created = datetime.now(UTC)  # when the rows were written, not the API's clock
    people: dict[str, Person] = {}
    teams: dict[str, uuid.UUID] = {}
    async with sessions() as session, session.begin():
        tenants = {}
        for tenant, directory, numbers in (("acme", ACME, {"desk": "+31201234567",
                                                             "care": "+31201234568"}),
                                           ("globex", GLOBEX, {"ops": "+31201234569"})):
            tid = tenants[tenant] = await tenants_repo.create_tenant(session, tenant, now=created)
            for endpoint in ENDPOINTS[tenant]:
                await endpoints_repo.assign(session, endpoint, tid)
            for team, number in numbers.items():
                defaults = TeamSettings.defaults(settings.routing, team.title())
                teams[team] = await directory_repo.create_team(
                    session, tid, team, defaults, now=created,
                    fallbacks=settings.telephony.fallback_policy())
                await directory_repo.add_number(session, tid, teams[team], number)
            for name, (phone, is_admin, available, until, in_teams) in directory.items():
                checked = phones.check(phone)
                mid = await members_repo.create_member(session, tid, name, checked,
                                                       is_admin=is_admin, now=created,
                                                       available=available,
                                                       until=None if until is None else now + until)
                people[SHORT[name]] = Person(mid, name, checked.phone)
                for priority, team in enumerate(in_teams):
                    await directory_repo.put_membership(session, tid, teams[team], mid, priority)
                if SHORT[name] in WITH_TOKENS:
                    _, people[SHORT[name]].token = await create_token(session, tid, mid, now=now)
        await session.execute(update(members).where(members.c.id == people["bob"].id).values(
            photo=PHOTO, photo_type="image/png"))
        world = World(acme=tenants["acme"], globex=tenants["globex"], people=people, teams=teams)

        async def call(key: str, tenant: uuid.UUID, team: str, ago: float, outcome: str | None,
                       wait: float | None, legs: list[tuple[str, str | None, bool, float | None]],
                       caller: str = "+31687654321") -> None:
            cid = world.calls[key] = uuid.uuid4()
            start = now - timedelta(seconds=ago)
            answered = any(a for _, _, a, _ in legs)
            await session.execute(insert(calls).values(
                id=cid, tenant_id=tenant, team_id=teams[team], node="node-a",
                caller_number=caller, dialled_number="+31201234567", started_at=start,
                answered_at=start + timedelta(seconds=wait or 0) if answered else None,
                ended_at=None if outcome is None else start + timedelta(seconds=60),
                outcome=outcome, wait_seconds=wait,
                talk_seconds=30.0 if outcome == "answered" else None,
                answered_by=next((people[w].id for w, _, a, _ in legs if a), None)))
            for leg, (who, result, was_answered, ended_ago) in enumerate(legs):
                await session.execute(insert(attempts).values(
                    id=uuid.uuid4(), call_id=cid, tenant_id=tenant, member_id=people[who].id,
                    node="node-a", started_at=start + timedelta(seconds=leg),
                    answered_at=start + timedelta(seconds=1) if was_answered else None,
                    ended_at=None if ended_ago is None else now - timedelta(seconds=ended_ago),
                    result=result))

        acme = tenants["acme"]
        # Finished calls, oldest first: statistics and history.
        await call("old_answered", acme, "desk", 7200, "answered", 10.0,
                   [("frank", "no_answer", False, 7100), ("erin", "answered", True, 7000)])
        await call("abandoned", acme, "desk", 3600, "abandoned", 20.0,
                   [("erin", "cancelled", False, 3580)])
        await call("nobody", acme, "desk", 1800, "no_one_available", 0.0, [])
        await call("timed_out", acme, "desk", 900, "timed_out", 120.0,
                   [("frank", "no_answer", False, 800)], caller="+31612345672")
        await call("dave_done", acme, "desk", 300, "answered", 4.0,
                   [("dave", "answered", True, 5)])  # dave is in wrap-up (10 s)
        # In progress: ann talks, bob's phone rings.
        await call("ann_talking", acme, "desk", 60, None, 3.0, [("ann", None, True, None)])
        await call("bob_ringing", acme, "desk", 5, None, None, [("bob", None, False, None)])
        await call("care_call", acme, "care", 400, "answered", 2.0,
                   [("carol", "answered", True, 350)])
        await call("globex_call", tenants["globex"], "ops", 500, "answered", 6.0,
                   [("hank", "answered", True, 400)], caller="+31699999999")
    return world


def api_settings(**http: Any) -> Settings:
    return settings_from_dict({"ari": {"password": "unused"}, "routing": {"wrap_up": 10},
                               "http": http})


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class LiveApi:
    base_url: str
    world: World
    sessions: Any
    clock: FakeClock
    client: httpx.AsyncClient
    settings: Settings
    app_openapi: dict[str, Any]

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table: equal before and after means nothing was written."""
        result = {}
        async with self.sessions() as session:
            for table in Base.metadata.sorted_tables:
                # A token's last use is bookkeeping of the authentication, not the request's write.
                columns = [c for c in table.c if c.name != "last_used_at"]
                rows = (await session.execute(select(*columns))).all()
                result[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return result


@asynccontextmanager
async def serving(app: Any, settings: Settings) -> AsyncIterator[str]:
    """Run `app` under uvicorn on a free loopback port; yields the base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = ApiServer(app, settings.http, sockets=[sock])
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started, "uvicorn did not start"
        scheme = "https" if settings.http.tls else "http"
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.stop()
        await asyncio.wait_for(task, 10)
        sock.close()


@asynccontextmanager
async def live(url: str, settings: Settings | None = None, *, status: Any = None,
               line_signals: Any = None) -> AsyncIterator[LiveApi]:
    settings = settings or api_settings()
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    try:
        world = await seed(sessions, settings, clock.now)
        app = create_app(sessions, settings, clock=clock, status=status, line_signals=line_signals)
        async with serving(app, settings) as base_url, httpx.AsyncClient(
                base_url=base_url, timeout=10) as client:
            yield LiveApi(base_url, world, sessions, clock, client, settings, app.openapi())
    finally:
        await engine.dispose()


@pytest.fixture(name="api")
async def api_fixture(migrated_db_url: str) -> AsyncIterator[LiveApi]:
    async with live(migrated_db_url) as running:
        yield running


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error body, after checking it has the one shape every error has."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "fields"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]

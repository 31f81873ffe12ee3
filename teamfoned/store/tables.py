"""The database schema: every row belongs to one tenant, and the database itself refuses a double booking."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from teamfoned.store.types import UTCDateTime

# Stable constraint names, so migrations can name what they alter on both databases.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # How long call history is kept before the housekeeping purge removes it.
    retention_days: Mapped[int] = mapped_column(Integer, default=90)
    created_at: Mapped[datetime]
    # The availability line (a member calling in from their phone) asks for the member's PIN.
    phone_pin_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        # Lets tenant-scoped rows point at (tenant_id, id), so a row can never cross tenants.
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("phone_kind IN ('e164', 'sip')", name="phone_kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64))
    phone_kind: Mapped[str] = mapped_column(String(8))
    photo: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_type: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(
            "fallback_kind IN ('dialplan', 'number', 'announce', 'team')", name="fallback_kind"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(200))
    strategy: Mapped[str] = mapped_column(String(32))
    ring_time_s: Mapped[int] = mapped_column(Integer)
    max_wait_s: Mapped[int] = mapped_column(Integer)
    wrap_up_s: Mapped[int] = mapped_column(Integer)
    confirm_calls: Mapped[bool] = mapped_column(Boolean)
    fallback_kind: Mapped[str] = mapped_column(String(16))
    fallback_target: Mapped[str | None] = mapped_column(String(200))
    # round_robin: the priority of the member picked last (None: start at the top).
    rr_position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # Opening hours and holidays are read in this IANA time zone.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Where calls go outside opening hours and on holidays (same kinds as the fallback);
    # None: the shipped fallback context.
    closed_kind: Mapped[str | None] = mapped_column(String(16))
    closed_target: Mapped[str | None] = mapped_column(String(200))
    # A member is made unavailable after this many unanswered attempts in a row (None: never).
    auto_unavailable_after: Mapped[int | None] = mapped_column(Integer)
    # The team's own recording for the call-confirmation prompt (an Asterisk sound name).
    confirm_recording: Mapped[str | None] = mapped_column(String(100))
    # Service level: the share of calls answered within this many seconds (statistics).
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    # With no member available at all: wait in the line (True) or fall back at once (False).
    wait_when_none_available: Mapped[bool] = mapped_column(Boolean, default=False,
                                                           server_default="0")
    # Waiting callers hear their place in the line every this many seconds (None: never).
    announce_position_every: Mapped[int | None] = mapped_column(Integer)
    # The language of what callers hear (a language of the prompt catalogue).
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # The next tier joins every this many seconds a caller has waited (None: only when the
    # tiers below have nobody available).
    next_tier_after: Mapped[int | None] = mapped_column(Integer)
    # What callers hear while members are rung and in the line: ringing or music (on hold,
    # of `moh_class`: a class the sysadmin allows; None: the first of them), after the team's
    # greeting (a sound of the tenant's own directory; None: none).
    waiting_sound: Mapped[str] = mapped_column(String(16), default="ringing",
                                               server_default="ringing")
    moh_class: Mapped[str | None] = mapped_column(String(80))
    greeting: Mapped[str | None] = mapped_column(String(100))
    # The position announcement tells the expected wait too.
    announce_expected_wait: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default="0")
    # A waiting caller may press this key to be called back (None: not offered); called this
    # many times, this many seconds apart, before the request goes to the "to call back" list.
    callback_key: Mapped[str | None] = mapped_column(String(1))
    callback_attempts: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    callback_retry_after: Mapped[int] = mapped_column(Integer, default=60, server_default="60")


class TeamHours(Base):
    """One opening period of a team on one weekday, in the team's time zone."""

    __tablename__ = "team_hours"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "team_id"], ["teams.tenant_id", "teams.id"], ondelete="CASCADE"
        ),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        Index("ix_team_hours_team_id", "team_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    opens: Mapped[str] = mapped_column(String(5))  # "08:30"
    closes: Mapped[str] = mapped_column(String(5))  # "17:00"; "24:00" for midnight


class TeamHoliday(Base):
    """A day on which the team is closed all day, in the team's time zone."""

    __tablename__ = "team_holidays"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "team_id"], ["teams.tenant_id", "teams.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("team_id", "day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    day: Mapped[datetime] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(100))


class TeamNumber(Base):
    __tablename__ = "team_numbers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "team_id"], ["teams.tenant_id", "teams.id"], ondelete="CASCADE"
        ),
        # Stored only in the canonical form (domain.names.canonical_number), so "X" and "+X"
        # can never be two rows for one number.
        CheckConstraint("number LIKE '+%'", name="number_canonical"),
    )

    # A DID reaches exactly one team in the whole installation, hence unique across tenants:
    # the primary key is on the canonical form ("+31207654321"), the one form every writer stores.
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)


class DirectoryVersion(Base):
    """One row counting every change of what the daemons' routing directories cache.

    Bumped by triggers (migration 0009) on teams, team_numbers, team_hours and team_holidays,
    whoever writes them: a daemon compares it with the version it loaded (the backstop to
    PostgreSQL's notifications, and SQLite's only signal).
    """

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SipEndpoint(Base):
    """A PJSIP endpoint the system administrator gave to one tenant: only its members may ring it."""

    __tablename__ = "sip_endpoints"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "team_id"], ["teams.tenant_id", "teams.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("team_id", "member_id"),
        Index("ix_memberships_member_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Lower rings first (linear) and is the member's place in the round_robin order.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    # When the member joins a call's hunt (routing.tiers): tier 1 first.
    tier: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Availability(Base):
    __tablename__ = "availability"

    member_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    # Available until this time; None: until changed.
    until: Mapped[datetime | None]
    changed_at: Mapped[datetime]
    # Why the current state was set: manual, schedule, or auto (unanswered attempts).
    reason: Mapped[str | None] = mapped_column(String(32))
    # What the member said they are away for (an AwayReason), when they made themselves
    # unavailable; shown only while that manual change holds.
    away_reason: Mapped[str | None] = mapped_column(String(16))
    # The last schedule boundary applied; a manual change holds until the next one.
    schedule_applied_at: Mapped[datetime | None]


class MemberPhoneLine(Base):
    """What the availability line needs of a member: the language it speaks to them in, and
    their PIN (a salted scrypt hash) with the wrong PINs entered since it last succeeded."""

    __tablename__ = "member_phone_line"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"],
                             ondelete="CASCADE"),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime]


class AvailabilitySchedule(Base):
    """One period in which a member is available by schedule (e.g. Monday 08:00-17:00)."""

    __tablename__ = "availability_schedules"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"
        ),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        Index("ix_availability_schedules_member_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    weekday: Mapped[int] = mapped_column(Integer)
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_team_id_started_at", "team_id", "started_at"),
        Index("ix_calls_tenant_id_started_at", "tenant_id", "started_at"),
        Index("ix_calls_node_open", "node", sqlite_where=text("outcome IS NULL"),
              postgresql_where=text("outcome IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # A deleted team keeps its history until retention removes it.
    team_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    node: Mapped[str] = mapped_column(String(64))
    caller_number: Mapped[str | None] = mapped_column(String(64))
    dialled_number: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # None while the call is in progress; crash recovery looks for these.
    outcome: Mapped[str | None] = mapped_column(String(32))
    wait_seconds: Mapped[float | None]
    talk_seconds: Mapped[float | None]
    # Erasing a member keeps the call's statistics but forgets who answered.
    answered_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    # Missed-call follow-up: who called the caller back (marked it handled), and when.
    handled_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    handled_at: Mapped[datetime | None]


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (
        # The double-booking guard: at most one open attempt (ringing or in call) per member.
        Index(
            "uq_attempts_member_open",
            "member_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # Last answered call's end (idle_since) and wrap-up: one index probe per member.
        Index(
            "ix_attempts_member_answered_end",
            "member_id",
            "ended_at",
            sqlite_where=text("answered_at IS NOT NULL"),
            postgresql_where=text("answered_at IS NOT NULL"),
        ),
        # Answered calls in the statistics window (fewest_calls).
        Index("ix_attempts_member_id_answered_at", "member_id", "answered_at"),
        Index("ix_attempts_call_id", "call_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    member_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    channel_id: Mapped[str | None] = mapped_column(String(128))
    node: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # None while open; an AttemptResult value once ended.
    result: Mapped[str | None] = mapped_column(String(32))


class ApiToken(Base):
    """A member's bearer token for the HTTP API, kept only as its SHA-256 hash."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        # The token dies with its member (erasure), and never points across tenants.
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"
        ),
        Index("ix_api_tokens_member_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Hex SHA-256 of the whole token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class SignInLink(Base):
    """A one-time sign-in link for the web app, kept only as the SHA-256 hash of its secret."""

    __tablename__ = "sign_in_links"
    __table_args__ = (
        # The link dies with its member (erasure), and never points across tenants.
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"
        ),
        Index("ix_sign_in_links_member_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser of the web app: the hash of its cookie's secret, and when it was used."""

    __tablename__ = "web_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["members.tenant_id", "members.id"], ondelete="CASCADE"
        ),
        Index("ix_web_sessions_member_id", "member_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Webhook(Base):
    """A tenant's receiver of call events, signed with its own secret."""

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    # HMAC-SHA256 key for the signature header; shown once when the webhook is created.
    secret: Mapped[str] = mapped_column(String(100))
    # Comma-separated event names ("call.missed,call.finished").
    events: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """The durable outbox: one event for one webhook, delivered at least once."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "next_attempt_at",
              sqlite_where=text("delivered_at IS NULL"), postgresql_where=text("delivered_at IS NULL")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))


class WaitingEntry(Base):
    """A call in its team's waiting line: the order is the database's, the same for every node."""

    __tablename__ = "waiting_entries"
    __table_args__ = (
        # The line of a team as every waiting call reads it: its open entries in arrival order.
        Index("ix_waiting_entries_team_open", "team_id", "arrived_at",
              sqlite_where=text("left_at IS NULL"), postgresql_where=text("left_at IS NULL")),
        # The expected wait reads the team's latest departures from the line.
        Index("ix_waiting_entries_team_left", "team_id", "left_at"),
    )

    # One entry per call: a caller who rang a member and goes back keeps their place.
    call_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"),
                                               primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    node: Mapped[str] = mapped_column(String(64))
    # When the call reached the team (its start): the line's order, whoever joined first.
    arrived_at: Mapped[datetime]
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
    # The caller asked to be called back (the entry keeps its arrival, so its place); how
    # many callbacks went unanswered, and when the next may start (None: now).
    callback_requested_at: Mapped[datetime | None]
    callback_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    callback_due_at: Mapped[datetime | None]



def _table(model: type[Base]) -> Table:
    # Declarative types `__table__` as any FromClause; insert, update and delete need the Table it is.
    table = model.__table__
    assert isinstance(table, Table)
    return table


tenants = _table(Tenant)
members = _table(Member)
teams = _table(Team)
team_numbers = _table(TeamNumber)
sip_endpoints = _table(SipEndpoint)
memberships = _table(Membership)
availability = _table(Availability)
calls = _table(Call)
attempts = _table(Attempt)
api_tokens = _table(ApiToken)
team_hours = _table(TeamHours)
team_holidays = _table(TeamHoliday)
availability_schedules = _table(AvailabilitySchedule)
member_phone_line = _table(MemberPhoneLine)
webhooks = _table(Webhook)
webhook_deliveries = _table(WebhookDelivery)
sign_in_links = _table(SignInLink)
web_sessions = _table(WebSession)
waiting_entries = _table(WaitingEntry)
directory_version = _table(DirectoryVersion)

"""Every table, classified once: the personal data it holds and what erasure, retention and export do with it.

A test walks the schema and fails on a table or a text column missing here, so a new one
cannot be forgotten. The functions that carry the rules out: members_repo.erase_member (with
outbox.redact_deliveries), retention.purge_expired and export_repo.tenant_export; after an
erasure commits, `empty_write_ahead_log` keeps SQLite's log from holding what was erased.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Treatment:
    """How one table's rows are treated.

    `personal`: the text or binary columns that hold personal data; `plain`: the other text or
    binary columns (which hold none). `export`: where the export document carries the rows, as
    a path of keys from the top, or None when they are not exported (then `holds` says why).
    """

    holds: str
    erasure: str
    retention: str
    export: str | None
    personal: tuple[str, ...] = ()
    plain: tuple[str, ...] = ()


_WITH_THE_MEMBER = "the member's rows go with the member (ON DELETE CASCADE)"
_UNTIL_ERASED = "kept until the member is erased"
_SETTINGS = "the tenant's configuration, no person's data"

TABLES: dict[str, Treatment] = {
    "tenants": Treatment(
        holds="the customer's name and retention period: an organisation, not a person",
        erasure="not touched (removing a tenant removes all its rows)",
        retention="kept while the tenant exists", export="tenant",
        plain=("name",)),
    "members": Treatment(
        holds="a person's name, phone number or SIP endpoint, and photo",
        erasure="the row is deleted; a tenant's last admin is refused first",
        retention=_UNTIL_ERASED, export="members",
        personal=("name", "phone", "photo"), plain=("phone_kind", "photo_type")),
    "availability": Treatment(
        holds="whether and until when a member is available",
        erasure=_WITH_THE_MEMBER, retention=_UNTIL_ERASED, export="members.availability",
        plain=("reason", "away_reason")),
    "availability_schedules": Treatment(
        holds="a member's weekly availability (their working times)",
        erasure=_WITH_THE_MEMBER, retention=_UNTIL_ERASED, export="members.schedule",
        plain=("starts", "ends", "timezone")),
    "member_phone_line": Treatment(
        holds="the language the availability line speaks to a member, their PIN's salted hash "
              "(exported never: it would only help an attacker) and their wrong PINs in a row",
        erasure=_WITH_THE_MEMBER, retention=_UNTIL_ERASED, export="members.phone_line",
        plain=("language", "pin_hash")),
    "api_tokens": Treatment(
        holds="a member's tokens; the label is free text an admin may write a name into (the "
              "hash is exported never: it would only help an attacker)",
        erasure=_WITH_THE_MEMBER, retention="kept until revoked or the member is erased",
        export="members.tokens",
        personal=("label",), plain=("token_hash",)),
    "sign_in_links": Treatment(
        holds="a member's pending one-time web sign-in links: a secret's hash and two times, "
              "nothing a person wrote (not exported: the hash would only help an attacker, and "
              "a link lives minutes)",
        erasure=_WITH_THE_MEMBER, retention="deleted when used; an unused one expires in minutes "
                                            "and goes at the member's next invitation",
        export=None, plain=("secret_hash",)),
    "web_sessions": Treatment(
        holds="a member's signed-in browsers: a secret's hash and when each was used (not "
              "exported: the hash would only help an attacker; the member sees their own list "
              "in the web app)",
        erasure=_WITH_THE_MEMBER,
        retention="deleted at sign-out, by an admin's sign-out everywhere, or at the member's "
                  "next sign-in once expired",
        export=None, plain=("secret_hash",)),
    "memberships": Treatment(
        holds="which teams a member belongs to",
        erasure=_WITH_THE_MEMBER, retention=_UNTIL_ERASED, export="memberships"),
    "teams": Treatment(
        holds="a team's settings; a fallback or closed target of kind number may be a person's "
              "phone",
        erasure="a fallback or closed target that is the erased member's number is reset to the "
                "shipped fallback context",
        retention="kept while the team exists", export="teams",
        personal=("fallback_target", "closed_target"),
        plain=("name", "label", "strategy", "fallback_kind", "timezone", "closed_kind",
               "confirm_recording", "language", "waiting_sound", "moh_class", "greeting",
               "callback_key")),
    "team_numbers": Treatment(
        holds=_SETTINGS + " (the team's own numbers)",
        erasure="not touched", retention="kept while the team exists", export="teams.numbers",
        plain=("number",)),
    "sip_endpoints": Treatment(
        holds="names of the PBX's desk-phone endpoints the sysadmin gave the tenant: no person's "
              "data, and not exported (the sysadmin's configuration; a member's own endpoint is "
              "their phone, exported with the member)",
        erasure="not touched (the sysadmin releases an endpoint)",
        retention="kept until the sysadmin releases it",
        export=None, plain=("name",)),
    "team_hours": Treatment(
        holds=_SETTINGS, erasure="not touched", retention="kept while the team exists",
        export="teams.hours", plain=("opens", "closes")),
    "team_holidays": Treatment(
        holds=_SETTINGS, erasure="not touched", retention="kept while the team exists",
        export="teams.holidays", plain=("name",)),
    "calls": Treatment(
        holds="the caller's number; who answered and who handled a missed call",
        erasure="kept for the statistics: answered_by and handled_by become NULL, a caller "
                "number that is the member's own (any form) becomes NULL",
        retention="deleted once started more than the tenant's retention_days ago",
        export="calls", personal=("caller_number",),
        plain=("node", "dialled_number", "channel_id", "outcome")),
    "attempts": Treatment(
        holds="which member's phone rang, when, and what happened",
        erasure="kept for the statistics: member_id becomes NULL",
        retention="deleted with their call", export="calls.attempts",
        plain=("channel_id", "node", "result")),
    "waiting_entries": Treatment(
        holds="when a call arrived, joined and left its team's waiting line, and when its caller "
              "asked to be called back and how often that went unanswered: times and counts of "
              "a call, no text (the caller's number stays on the call, and the callback dials "
              "it from there); not exported, since the call's own wait and attempts are",
        erasure="not touched (it names no member)", retention="deleted with its call",
        export=None, plain=("node",)),
    "webhooks": Treatment(
        holds="the tenant's receiver URLs and signing secrets: no person's data (the secret is "
              "exported never)",
        erasure="not touched", retention="kept until the tenant removes the webhook",
        export="webhooks", plain=("url", "secret", "events")),
    "webhook_deliveries": Treatment(
        holds="each event's payload: a call as the webhook receives it, with the caller's "
              "number and who answered",
        erasure="the payload forgets the member: their number and id become null in sent and "
                "pending deliveries alike (a pending one still goes, as its call now reads)",
        retention="deleted once created more than the tenant's retention_days ago (an event is "
                  "written when its call ends, so it goes at most one call's length after it)",
        export="deliveries", personal=("payload",), plain=("event", "last_error")),
    "directory_version": Treatment(
        holds="one counter of changes to the teams' routing data: no person's data",
        erasure="not touched", retention="one row, kept", export=None),
}


async def empty_write_ahead_log(session: AsyncSession) -> bool:
    """On SQLite, copy the write-ahead log into the database file and truncate it to nothing.

    Run after an erasure commits, in a session that has run nothing yet. The erasing
    transaction overwrote the member's rows in the database file (secure_delete), but until a
    checkpoint the log still holds every earlier version of those pages, names and numbers
    included. PostgreSQL needs nothing here. Returns False when readers kept the checkpoint
    from finishing (logged; the next checkpoint completes it): the erasure itself stands.
    """
    if session.get_bind().dialect.name != "sqlite":
        return True
    try:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        # The answer is (busy, frames in the log, frames copied); busy: readers held it up.
        busy = (await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).one()[0]
    except SQLAlchemyError as exc:
        log.warning("erasure_checkpoint_failed", error=str(exc))
        return False
    if busy:
        log.warning("erasure_checkpoint_busy")
    return not busy

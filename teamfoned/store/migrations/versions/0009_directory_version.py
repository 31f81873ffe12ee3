"""The routing directory's change signal: a version row bumped, and on PostgreSQL a notification sent, by every write of what the daemons cache.

Revision ID: 0009
Revises: 0008

The daemons keep numbers, teams' routing settings, opening hours and holidays in memory
(store.routing_directory). Triggers, not the writers, raise the signal, so the API, the CLI,
the directory import, a DBA's hand edit and every node are covered alike. A team's
`rr_position` is left out: it changes with every round-robin call and is read from the
database per call, never from the directory.

SQLite drops a table's triggers when a batch migration rebuilds the table: a later migration
that rebuilds one of these tables must create its triggers again (`create_sqlite_triggers`).
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CHANNEL = "teamfoned_directory"
CACHED = ("team_numbers", "team_hours", "team_holidays")
# Every column of teams but rr_position, as of this revision. A later migration that adds a
# team setting creates the update triggers again with it (a test updates each column of teams
# and expects the version to move).
TEAM_COLUMNS = ("id", "tenant_id", "name", "label", "strategy", "ring_time_s", "max_wait_s",
                "wrap_up_s", "confirm_calls", "fallback_kind", "fallback_target", "created_at",
                "timezone", "closed_kind", "closed_target", "auto_unavailable_after",
                "confirm_recording", "service_level_seconds", "wait_when_none_available",
                "announce_position_every", "language")
BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"


def _postgresql() -> None:
    op.execute(f"""
CREATE FUNCTION teamfoned_directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_at bigint;
BEGIN
    {BUMP} RETURNING version INTO now_at;
    PERFORM pg_notify('{CHANNEL}', now_at::text);
    RETURN NULL;
END
$$""")
    for table in CACHED:
        op.execute(f"CREATE TRIGGER {table}_directory_changed AFTER INSERT OR UPDATE OR DELETE "
                   f"OR TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed()")
    op.execute("CREATE TRIGGER teams_directory_changed AFTER INSERT OR DELETE OR TRUNCATE ON teams "
               "FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed()")
    op.execute(f"CREATE TRIGGER teams_directory_updated AFTER UPDATE OF {', '.join(TEAM_COLUMNS)} "
               "ON teams FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed()")


def create_sqlite_triggers() -> None:
    for table in CACHED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER {table}_directory_{event.lower()} AFTER {event} ON {table} "
                       f"BEGIN {BUMP}; END")
    for event in ("INSERT", "DELETE", f"UPDATE OF {', '.join(TEAM_COLUMNS)}"):
        name = event.split()[0].lower()
        op.execute(f"CREATE TRIGGER teams_directory_{name} AFTER {event} ON teams BEGIN {BUMP}; END")


def upgrade() -> None:
    op.create_table(
        "directory_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_version")),
    )
    op.execute("INSERT INTO directory_version (id, version) VALUES (1, 0)")
    if op.get_context().dialect.name == "postgresql":
        _postgresql()
    else:
        create_sqlite_triggers()


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in (*CACHED, "teams"):
            op.execute(f"DROP TRIGGER {table}_directory_changed ON {table}")
        op.execute("DROP TRIGGER teams_directory_updated ON teams")
        op.execute("DROP FUNCTION teamfoned_directory_changed()")
    else:
        for table in CACHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_directory_{event}")
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER teams_directory_{event}")
    op.drop_table("directory_version")

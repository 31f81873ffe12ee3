"""Callback instead of waiting: a team's callback key, tries and pause between them; a waiting entry that became a callback request, its tries and when the next is due.

Revision ID: 0012
Revises: 0011

The teams triggers of the routing directory (migration 0009) are created again with the new
columns in their list, so the daemons hear of a change to them.
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

FUNCTION = "teamfoned_directory_changed"
BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"
# The list of every column of teams but rr_position as the revision before left it (0009's,
# with 0010's and 0011's columns), and this revision's.
TEAM_COLUMNS_BEFORE = (
    "id", "tenant_id", "name", "label", "strategy", "ring_time_s", "max_wait_s",
    "wrap_up_s", "confirm_calls", "fallback_kind", "fallback_target", "created_at",
    "timezone", "closed_kind", "closed_target", "auto_unavailable_after",
    "confirm_recording", "service_level_seconds", "wait_when_none_available",
    "announce_position_every", "language",
    "next_tier_after",  # 0010
    "waiting_sound", "moh_class", "greeting", "announce_expected_wait",  # 0011
)
TEAM_COLUMNS = (*TEAM_COLUMNS_BEFORE, "callback_key", "callback_attempts", "callback_retry_after")


def _update_trigger(columns: tuple[str, ...]) -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS teams_directory_updated ON teams")
        op.execute(f"CREATE TRIGGER teams_directory_updated AFTER UPDATE OF {', '.join(columns)} "
                   f"ON teams FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
    else:
        # A batch add of columns with constant defaults keeps SQLite's teams table (and its
        # other triggers) in place; only the update trigger names columns.
        op.execute("DROP TRIGGER IF EXISTS teams_directory_update")
        op.execute(f"CREATE TRIGGER teams_directory_update AFTER UPDATE OF {', '.join(columns)} "
                   f"ON teams BEGIN {BUMP}; END")


def upgrade() -> None:
    # Constant defaults only: an SQL expression would make SQLite's batch mode rebuild the
    # teams table, and dropping the old one cascades into team_numbers.
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("callback_key", sa.String(1), nullable=True))
        batch.add_column(sa.Column("callback_attempts", sa.Integer(), nullable=False,
                                   server_default="2"))
        batch.add_column(sa.Column("callback_retry_after", sa.Integer(), nullable=False,
                                   server_default="60"))
    with op.batch_alter_table("waiting_entries") as batch:
        batch.add_column(sa.Column("callback_requested_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("callback_tries", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("callback_due_at", sa.DateTime(timezone=True), nullable=True))
    _update_trigger(TEAM_COLUMNS)


def downgrade() -> None:
    # The update trigger names the columns (PostgreSQL refuses to drop one it names, SQLite
    # too): it comes back first with the list before them.
    _update_trigger(TEAM_COLUMNS_BEFORE)
    entry_columns = ("callback_due_at", "callback_tries", "callback_requested_at")
    team_columns = ("callback_retry_after", "callback_attempts", "callback_key")
    if op.get_context().dialect.name == "postgresql":
        for column in entry_columns:
            op.drop_column("waiting_entries", column)
        for column in team_columns:
            op.drop_column("teams", column)
    else:
        # SQLite's own DROP COLUMN: a batch rebuild of teams would cascade into team_numbers
        # and memberships (foreign keys are on).
        for column in entry_columns:
            op.execute(f"ALTER TABLE waiting_entries DROP COLUMN {column}")
        for column in team_columns:
            op.execute(f"ALTER TABLE teams DROP COLUMN {column}")

"""Tiers (staged ring): a member's tier in each team (1, the default, is offered calls first)
and the team's next_tier_after (seconds a caller waits before the next tier joins; None: only
when the tiers below have nobody available).

Revision ID: 0010
Revises: 0009

The routing directory's update trigger on teams names every cached column (migration 0009):
it is created again with next_tier_after, or a change of it would not reach the daemons.
Plain ADD COLUMN on both databases: SQLite keeps the table (and its other triggers) in place.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"
# Migration 0009's list, as of that revision; the update trigger is made with one of these.
TEAM_COLUMNS_0009 = ("id", "tenant_id", "name", "label", "strategy", "ring_time_s", "max_wait_s",
                     "wrap_up_s", "confirm_calls", "fallback_kind", "fallback_target",
                     "created_at", "timezone", "closed_kind", "closed_target",
                     "auto_unavailable_after", "confirm_recording", "service_level_seconds",
                     "wait_when_none_available", "announce_position_every", "language")
TEAM_COLUMNS = (*TEAM_COLUMNS_0009, "next_tier_after")


def _update_trigger(columns: tuple[str, ...]) -> None:
    listed = ", ".join(columns)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS teams_directory_updated ON teams")
        op.execute(f"CREATE TRIGGER teams_directory_updated AFTER UPDATE OF {listed} ON teams "
                   "FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed()")
    else:
        op.execute("DROP TRIGGER IF EXISTS teams_directory_update")
        op.execute(f"CREATE TRIGGER teams_directory_update AFTER UPDATE OF {listed} ON teams "
                   f"BEGIN {BUMP}; END")


def upgrade() -> None:
    op.add_column("memberships", sa.Column("tier", sa.Integer(), nullable=False,
                                           server_default="1"))
    op.add_column("teams", sa.Column("next_tier_after", sa.Integer(), nullable=True))
    _update_trigger(TEAM_COLUMNS)


def downgrade() -> None:
    # The trigger names the column: it goes first, and comes back with 0009's list.
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS teams_directory_updated ON teams")
        op.drop_column("teams", "next_tier_after")
        op.drop_column("memberships", "tier")
    else:
        op.execute("DROP TRIGGER IF EXISTS teams_directory_update")
        # SQLite's own DROP COLUMN: a batch rebuild of teams would cascade into team_numbers.
        op.execute("ALTER TABLE teams DROP COLUMN next_tier_after")
        op.execute("ALTER TABLE memberships DROP COLUMN tier")
    _update_trigger(TEAM_COLUMNS_0009)

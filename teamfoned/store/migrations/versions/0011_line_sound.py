"""What a waiting caller hears: ringing or music on hold (a class the sysadmin allows), the team's greeting first, and the expected wait with the position announcement; the routing directory's teams triggers again with these columns; an index for the expected wait's read.

Revision ID: 0011
Revises: 0010
"""

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _migration(file: str) -> ModuleType:
    """An earlier migration, whose trigger statements or column list this one extends."""
    spec = importlib.util.spec_from_file_location(f"teamfoned_migration_{file[:4]}",
                                                  Path(__file__).with_name(file))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_0009 = _migration("0009_directory_version.py")  # the triggers' statements
_BEFORE = _migration("0010_member_tiers.py").TEAM_COLUMNS  # the list as the revision before left it
ADDED = ("waiting_sound", "moh_class", "greeting", "announce_expected_wait")
# Every column of teams but rr_position, as of this revision: a write of any of them reaches
# every daemon's routing directory.
TEAM_COLUMNS = (*_BEFORE, *ADDED)


def _teams_update_trigger(columns: tuple[str, ...]) -> None:
    """Create the teams update trigger again over `columns` (0009's statements)."""
    listed = ", ".join(columns)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER teams_directory_updated ON teams")
        op.execute(f"CREATE TRIGGER teams_directory_updated AFTER UPDATE OF {listed} ON teams "
                   "FOR EACH STATEMENT EXECUTE FUNCTION teamfoned_directory_changed()")
    else:
        op.execute("DROP TRIGGER IF EXISTS teams_directory_update")
        op.execute(f"CREATE TRIGGER teams_directory_update AFTER UPDATE OF {listed} ON teams "
                   f"BEGIN {_0009.BUMP}; END")


def upgrade() -> None:
    # Constant defaults only: an SQL expression would make SQLite's batch mode rebuild the
    # teams table (dropping its triggers, and cascading into team_numbers).
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("waiting_sound", sa.String(16), nullable=False,
                                   server_default="ringing"))
        batch.add_column(sa.Column("moh_class", sa.String(80), nullable=True))
        batch.add_column(sa.Column("greeting", sa.String(100), nullable=True))
        batch.add_column(sa.Column("announce_expected_wait", sa.Boolean(), nullable=False,
                                   server_default="0"))
    _teams_update_trigger(TEAM_COLUMNS)
    op.create_index("ix_waiting_entries_team_left", "waiting_entries", ["team_id", "left_at"])


def downgrade() -> None:
    op.drop_index("ix_waiting_entries_team_left", table_name="waiting_entries")
    # The update trigger names the columns: it comes back first with the list before them.
    _teams_update_trigger(_BEFORE)
    if op.get_context().dialect.name == "postgresql":
        for column in reversed(ADDED):
            op.drop_column("teams", column)
    else:
        # SQLite's own DROP COLUMN: a batch rebuild of teams would cascade into team_numbers
        # and memberships (foreign keys are on).
        for column in reversed(ADDED):
            op.execute(f"ALTER TABLE teams DROP COLUMN {column}")

"""The waiting line: one entry per call waiting for a member of its team, in arrival order;
the team's rule for when nobody is available (wait, or fall back at once: the default); how
often waiting callers hear their place, and in which language.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Constant defaults only: an SQL expression would make SQLite's batch mode rebuild the
    # teams table, and dropping the old one cascades into team_numbers.
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("wait_when_none_available", sa.Boolean(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("announce_position_every", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    op.create_table(
        "waiting_entries",
        sa.Column("call_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("node", sa.String(64), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE",
                                name="fk_waiting_entries_call_id_calls"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                name="fk_waiting_entries_tenant_id_tenants"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="CASCADE",
                                name="fk_waiting_entries_team_id_teams"),
        sa.PrimaryKeyConstraint("call_id", name="pk_waiting_entries"),
    )
    op.create_index("ix_waiting_entries_team_open", "waiting_entries", ["team_id", "arrived_at"],
                    sqlite_where=sa.text("left_at IS NULL"),
                    postgresql_where=sa.text("left_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_waiting_entries_team_open", table_name="waiting_entries")
    op.drop_table("waiting_entries")
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("language")
        batch.drop_column("announce_position_every")
        batch.drop_column("wait_when_none_available")

"""A team's service level: the share of its calls answered within N seconds (default 20).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("service_level_seconds", sa.Integer(), nullable=False,
                                   server_default="20"))


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("service_level_seconds")

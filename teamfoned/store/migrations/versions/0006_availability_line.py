"""The availability line: a tenant may require a PIN; a member's line language, PIN hash and wrong-PIN count.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("phone_pin_required", sa.Boolean(), nullable=False,
                                   server_default=sa.text("false")))
    op.create_table(
        "member_phone_line",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("pin_failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "member_id"], ["members.tenant_id", "members.id"],
                                name="fk_member_phone_line_tenant_id_members", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_phone_line"),
    )
    op.create_index("ix_member_phone_line_tenant_id", "member_phone_line", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_member_phone_line_tenant_id", table_name="member_phone_line")
    op.drop_table("member_phone_line")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("phone_pin_required")

"""The members' web app: one-time sign-in links and signed-in browsers, both kept only as hashes;
what a member who made themselves unavailable said they are away for.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _keyed_by_member(name: str, *extra: sa.Column[object]) -> None:
    op.create_table(name,
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('member_id', sa.Uuid(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    *extra,
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'member_id'], ['members.tenant_id', 'members.id'], name=op.f(f'fk_{name}_tenant_id_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint('secret_hash', name=op.f(f'uq_{name}_secret_hash'))
    )
    op.create_index(f'ix_{name}_member_id', name, ['member_id'], unique=False)


def upgrade() -> None:
    with op.batch_alter_table("availability") as batch:
        batch.add_column(sa.Column("away_reason", sa.String(length=16), nullable=True))
    _keyed_by_member('sign_in_links')
    _keyed_by_member('web_sessions',
                     sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=False))


def downgrade() -> None:
    op.drop_table('web_sessions')
    op.drop_table('sign_in_links')
    with op.batch_alter_table("availability") as batch:
        batch.drop_column("away_reason")

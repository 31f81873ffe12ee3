"""Team numbers in one canonical form (E.164, "+" and digits), and SIP endpoints assigned to tenants.

Existing numbers are rewritten to their canonical form. Two rows that are one number ("X" and
"+X", in two tenants or in one) cannot both stay, and which of them is the real owner is for
the system administrator to say: the migration then stops, lists them, and changes nothing.
National-format rows ("0201234567") are read in telephony.default_region, which `teamfoned db
upgrade` hands in; without one they are listed the same way.

No endpoint is assigned here: which tenant owns a desk phone is the system administrator's
word, not whatever a tenant admin once typed as a phone. Members whose SIP endpoint is not
assigned are listed, and are not dialled until it is (`teamfoned endpoint assign`).

Revision ID: 0004
Revises: 0003
"""

import sys
from collections import defaultdict

import sqlalchemy as sa
from alembic import context, op

from teamfoned.domain.errors import Invalid, Refused
from teamfoned.domain.names import canonical_number

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


class NumbersCollide(Refused):
    """Existing team numbers that are one number, or not a number at all; nothing was changed."""


def _canonicalise_numbers(bind: sa.engine.Connection, default_region: str | None) -> None:
    rows = bind.execute(sa.text(
        "SELECT n.number, t.name, s.name FROM team_numbers n "
        "JOIN tenants t ON t.id = n.tenant_id JOIN teams s ON s.id = n.team_id "
        "ORDER BY n.number")).all()
    by_number: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    problems = []
    for number, tenant, team in rows:
        try:
            by_number[canonical_number(number, default_region=default_region)].append(
                (number, tenant, team))
        except Invalid as exc:
            problems.append(f"  {tenant}/{team}: {exc}")
    for canonical, holders in sorted(by_number.items()):
        if len(holders) > 1:
            spelled = ", ".join(f"{number!r} ({tenant}/{team})" for number, tenant, team in holders)
            problems.append(f"  {canonical} is stored {len(holders)} times: {spelled}")
    if problems:
        raise NumbersCollide(
            "team numbers must each be one number in one form (E.164), and these are not; "
            "nothing was changed. Keep only the real owner's row of each, deleting the others "
            "by their stored spelling (DELETE FROM team_numbers WHERE number = '...'), or fix "
            "the number, then upgrade again:\n" + "\n".join(problems))
    for canonical, [(number, _, _)] in by_number.items():
        if number != canonical:
            bind.execute(sa.text("UPDATE team_numbers SET number = :new WHERE number = :old"),
                         {"new": canonical, "old": number})


def _report_unassigned_endpoints(bind: sa.engine.Connection) -> None:
    rows = bind.execute(sa.text(
        "SELECT DISTINCT t.name, m.phone FROM members m JOIN tenants t ON t.id = m.tenant_id "
        "WHERE m.phone_kind = 'sip' ORDER BY t.name, m.phone")).all()
    if rows:
        print("teamfoned: SIP endpoints are now assigned to tenants; members with these "
              "endpoints are not dialled until the system administrator assigns them:",
              file=sys.stderr)
        for tenant, endpoint in rows:
            print(f"  teamfoned endpoint assign {endpoint} --tenant {tenant}", file=sys.stderr)


def upgrade() -> None:
    if not context.is_offline_mode():  # the plain-SQL schema has no rows to rewrite
        bind = op.get_bind()
        _canonicalise_numbers(bind, context.config.attributes.get("default_region"))
        _report_unassigned_endpoints(bind)
    with op.batch_alter_table('team_numbers', schema=None) as batch_op:
        batch_op.create_check_constraint(op.f('ck_team_numbers_number_canonical'),
                                         "number LIKE '+%'")

    op.create_table('sip_endpoints',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sip_endpoints_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sip_endpoints'))
    )
    with op.batch_alter_table('sip_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sip_endpoints_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    # Numbers stay canonical: every form of a number still routes to it.
    with op.batch_alter_table('sip_endpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sip_endpoints_tenant_id'))
    op.drop_table('sip_endpoints')
    with op.batch_alter_table('team_numbers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_team_numbers_number_canonical'), type_='check')

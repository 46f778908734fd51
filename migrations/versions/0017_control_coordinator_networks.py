"""coordinators' networks: the networks a coordinator sees and acts on

Revision ID: 0017_control
Revises: 0016_integrated
Create Date: 2026-12-06 00:30:00

``user_networks`` lists the networks a coordinator coordinates; ``users.all_networks`` marks a
hub coordinator who sees and acts on every network (issue 14).

Migration default: every existing user is given ``all_networks`` (a coordinator keeps every
network they could act on before this change, so nobody loses the visits they are running
mid-shift) and their home network, if any, is copied into ``user_networks``. An administrator
then narrows a coordinator with ``dispatch user networks NAME --network ID``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017_control'
down_revision: str | None = '0016_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('all_networks', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.create_table(
        'user_networks',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                                name=op.f('fk_user_networks_network_id_networks')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_user_networks_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'network_id', name=op.f('pk_user_networks')),
    )
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column('network_id', sa.Integer()),
                     sa.column('all_networks', sa.Boolean()))
    op.execute(users.update().values(all_networks=True))
    op.execute(sa.text('INSERT INTO user_networks (user_id, network_id) '
                       'SELECT id, network_id FROM users WHERE network_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_table('user_networks')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('all_networks')

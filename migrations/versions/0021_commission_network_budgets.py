"""pooled network budgets (issue 17)

Revision ID: 0021_commission
Revises: 0020_commission
Create Date: 2026-12-06 00:55:00

A network's pooled health and social care budget per period; approving a care package checks
the budget left as well as the approver's limit.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_commission'
down_revision: str | None = '0020_commission'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('network_budgets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('health_pence', sa.BigInteger(), nullable=False),
    sa.Column('social_care_pence', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_network_budgets_period')),
    sa.CheckConstraint('health_pence >= 0 AND social_care_pence >= 0', name=op.f('ck_network_budgets_amounts')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_network_budgets_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_budgets')),
    sa.UniqueConstraint('network_id', 'period_start', name=op.f('uq_network_budgets_network_id'))
    )
    with op.batch_alter_table('network_budgets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_budgets_network_id'), ['network_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('network_budgets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_budgets_network_id'))
    op.drop_table('network_budgets')

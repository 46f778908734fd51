"""capacity planner runs (issue 17)

Revision ID: 0020_commission
Revises: 0019_carews
Create Date: 2026-12-06 00:50:00

``POST /api/capacity-plans`` records a run here; the ``run_capacity_plans`` job plays the
simulated days and writes its progress and, at the end, the recommended staffing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020_commission'
down_revision: str | None = '0019_carews'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('capacity_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('requested_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_capacity_plans_status')),
    sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_capacity_plans_progress')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_plans'))
    )


def downgrade() -> None:
    op.drop_table('capacity_plans')

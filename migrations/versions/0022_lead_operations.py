"""job heartbeats and planner runs, for the operators' metrics

Revision ID: 0022_lead
Revises: 0021_commission
Create Date: 2026-12-06 00:40:00

The jobs run in the scheduler process; ``/metrics`` is served by the web processes. What the
jobs did (when each last ran, planner run time and dropped visits per network) is written here
so any web process can report it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022_lead'
down_revision: str | None = '0021_commission'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'job_heartbeats',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seconds', sa.Float(), nullable=False),
        sa.Column('last_ok', sa.Boolean(), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.CheckConstraint('runs >= 0 AND failures >= 0', name=op.f('ck_job_heartbeats_counts')),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_job_heartbeats')),
    )
    op.create_table(
        'planner_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=True),
        sa.Column('method', sa.String(length=12), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.Column('planned', sa.Integer(), nullable=False),
        sa.Column('dropped', sa.Integer(), nullable=False),
        sa.Column('relaxed', sa.Boolean(), nullable=False),
        sa.CheckConstraint('seconds >= 0', name=op.f('ck_planner_runs_seconds')),
        sa.CheckConstraint('visits >= 0 AND planned >= 0 AND dropped >= 0',
                           name=op.f('ck_planner_runs_counts')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE',
                                name=op.f('fk_planner_runs_network_id_networks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_planner_runs')),
    )
    op.create_index('ix_planner_runs_network_started', 'planner_runs',
                    ['network_id', 'started_at'])
    op.create_index(op.f('ix_planner_runs_started_at'), 'planner_runs', ['started_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_planner_runs_started_at'), table_name='planner_runs')
    op.drop_index('ix_planner_runs_network_started', table_name='planner_runs')
    op.drop_table('planner_runs')
    op.drop_table('job_heartbeats')

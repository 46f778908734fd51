"""planning on workers: the networks' plan generation and the planning-task ledger

Revision ID: 0026_workers
Revises: 0025_integ16
Create Date: 2026-12-06 04:00:00

Issue 18 part 5: planning runs as tasks on workers (Dramatiq over Redis). Each network counts
the plans applied to it (``plan_generation``), read with a plan's problem and checked in the
apply's transaction, so an older plan never overwrites a newer one; ``planning_tasks`` records
each task sent and whether its plan was applied, in that same transaction, so a task re-run
after its worker died applies nothing twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026_workers'
down_revision: str | None = '0025_integ16'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('networks') as batch:
        batch.add_column(sa.Column('plan_generation', sa.Integer(), server_default='0',
                                   nullable=False))
    op.create_table(
        'planning_tasks',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=True),
        sa.Column('subject_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('read_generation', sa.Integer(), nullable=True),
        sa.Column('applied_generation', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('worker', sa.String(length=80), nullable=True),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('note', sa.String(length=300), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'applied', 'done', 'superseded', 'failed')",
            name=op.f('ck_planning_tasks_status')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_planning_tasks_attempts')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'], ondelete='CASCADE',
                                name=op.f('fk_planning_tasks_network_id_networks')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_tasks')),
    )
    op.create_index('ix_planning_tasks_open', 'planning_tasks',
                    ['kind', 'network_id', 'status'])
    op.create_index(op.f('ix_planning_tasks_queued_at'), 'planning_tasks', ['queued_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_planning_tasks_queued_at'), table_name='planning_tasks')
    op.drop_index('ix_planning_tasks_open', table_name='planning_tasks')
    op.drop_table('planning_tasks')
    with op.batch_alter_table('networks') as batch:
        batch.drop_column('plan_generation')

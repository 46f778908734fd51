"""absences: a worker off sick, absent or finishing early

Revision ID: 0018_control
Revises: 0017_control
Create Date: 2026-12-06 00:45:00

A coordinator marks a worker off from a time until a time (``POST /api/staff/{id}/absence``
or the board); the planner gives them nothing in it and their open visits in it are
re-planned (issue 14).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018_control'
down_revision: str | None = '0017_control'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'absences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=True),
        sa.Column('created_by', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cancelled_by', sa.String(length=80), nullable=True),
        sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_absences_ends_after_start')),
        sa.CheckConstraint("reason IN ('sick', 'absent', 'finishing_early')",
                           name=op.f('ck_absences_reason')),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_absences_staff_id_staff')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_absences')),
    )
    op.create_index('ix_absences_staff_start', 'absences', ['staff_id', 'starts_at'])


def downgrade() -> None:
    op.drop_index('ix_absences_staff_start', table_name='absences')
    op.drop_table('absences')

"""slot holds: a time offered to a caller held for a few minutes

Revision ID: 0029_carework
Revises: 0028_london
Create Date: 2026-12-06 04:10:00

Hazard H-140-C2 (issue 15): a window offered to a caller is held on the worker's route for
``SLOT_HOLD_MINUTES`` so another call handler's offers are worked out round it. A new table
only; nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029_carework'
down_revision: str | None = '0028_london'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'slot_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.Column('network_id', sa.Integer(), nullable=True),
        sa.Column('shift_id', sa.Integer(), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('planned_start', sa.DateTime(timezone=True), nullable=False),
        sa.Column('held_by', sa.String(length=120), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('window_start <= window_end', name=op.f('ck_slot_holds_window')),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'],
                                name=op.f('fk_slot_holds_visit_id_visits')),
        sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                                name=op.f('fk_slot_holds_network_id_networks')),
        sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'],
                                name=op.f('fk_slot_holds_shift_id_shifts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_holds')),
    )
    op.create_index('ix_slot_holds_network_expires', 'slot_holds', ['network_id', 'expires_at'])
    op.create_index(op.f('ix_slot_holds_visit_id'), 'slot_holds', ['visit_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_slot_holds_visit_id'), table_name='slot_holds')
    op.drop_index('ix_slot_holds_network_expires', table_name='slot_holds')
    op.drop_table('slot_holds')

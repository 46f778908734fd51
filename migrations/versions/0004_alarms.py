"""escalations to the on-call coordinator, de-duplicated and grouped

Revision ID: 0004_alarms
Revises: 0003_access
Create Date: 2026-12-05 21:40:00

Issue 13 hazard 7 (alarm flood) and issue 20 item 7 (duplicate escalation texts): each
escalation is one row with a unique key, so concurrent writers raise it once; the on-call
phone's last grouped text is one row claimed by compare-and-set, so at most one grouped text
goes to a coordinator per interval.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004_alarms'
down_revision: str | None = '0003_access'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('on_call_texts',
    sa.Column('to_number', sa.String(length=16), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('to_number', name=op.f('pk_on_call_texts'))
    )
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=120), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('to_number', sa.String(length=16), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'],
                            name=op.f('fk_escalations_message_id_messages')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'],
                            name=op.f('fk_escalations_network_id_networks')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_escalations_staff_id_staff')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_escalations_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations')),
    sa.UniqueConstraint('key', name=op.f('uq_escalations_key'))
    )
    op.create_index('ix_escalations_queue', 'escalations', ['to_number', 'message_id'],
                    unique=False)
    op.create_index(op.f('ix_escalations_network_id'), 'escalations', ['network_id'],
                    unique=False)
    op.create_index(op.f('ix_escalations_visit_id'), 'escalations', ['visit_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_escalations_visit_id'), table_name='escalations')
    op.drop_index(op.f('ix_escalations_network_id'), table_name='escalations')
    op.drop_index('ix_escalations_queue', table_name='escalations')
    op.drop_table('escalations')
    op.drop_table('on_call_texts')

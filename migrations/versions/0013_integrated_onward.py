"""onward referrals and tasks

Revision ID: 0013_integrated
Revises: 0012_integrated
Create Date: 2026-12-06 00:37:19.686484

Referrals out and hand-overs (status sent, accepted, done, declined; due; overdue
reminder once) and tasks with an owner and a due date (issue 16, item 4; hazard H-022).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_integrated'
down_revision: str | None = '0012_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('onward_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=True),
    sa.Column('network_id', sa.Integer(), nullable=True),
    sa.Column('service', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('handover', sa.Boolean(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('contact', sa.String(length=120), nullable=True),
    sa.Column('outcome', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("service IN ('memory_clinic', 'adult_social_care', 'falls_service', 'equipment_telecare', 'childrens_services', 'nhs_111', 'gp_practice', 'district_nursing', 'mental_health', 'other')", name=op.f('ck_onward_referrals_service')),
    sa.CheckConstraint("status IN ('sent', 'accepted', 'done', 'declined')", name=op.f('ck_onward_referrals_status')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_onward_referrals_network_id_networks')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_onward_referrals_patient_id_patients')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_onward_referrals_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_onward_referrals'))
    )
    with op.batch_alter_table('onward_referrals', schema=None) as batch_op:
        batch_op.create_index('ix_onward_referrals_open', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_onward_referrals_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_onward_referrals_referral_id'), ['referral_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('owner_name', sa.String(length=120), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('onward_referral_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['onward_referral_id'], ['onward_referrals.id'], name=op.f('fk_tasks_onward_referral_id_onward_referrals')),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_tasks_owner_user_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_tasks_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_owner_open', ['owner_user_id', 'done_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_patient_id'))
        batch_op.drop_index('ix_tasks_owner_open')

    op.drop_table('tasks')
    with op.batch_alter_table('onward_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_onward_referrals_referral_id'))
        batch_op.drop_index(batch_op.f('ix_onward_referrals_patient_id'))
        batch_op.drop_index('ix_onward_referrals_open')

    op.drop_table('onward_referrals')

"""practices groups coordinators

Revision ID: 0011_integrated
Revises: 0010_pipeline
Create Date: 2026-12-06 00:27:36.091328

GP practices (ODS code, network), patients' registration with one, multidisciplinary
groups with members by role and an MDG manager, and each patient's named care coordinator
(issue 16, item 1). Registration and coordinator are tables of their own, one row per patient.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_integrated'
down_revision: str | None = '0010_pipeline'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('gp_practices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ods_code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(ods_code) = 6', name=op.f('ck_gp_practices_ods_code_length')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_gp_practices_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gp_practices')),
    sa.UniqueConstraint('ods_code', name=op.f('uq_gp_practices_ods_code'))
    )
    with op.batch_alter_table('gp_practices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gp_practices_network_id'), ['network_id'], unique=False)

    op.create_table('practice_registrations',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_practice_registrations_patient_id_patients')),
    sa.ForeignKeyConstraint(['practice_id'], ['gp_practices.id'], name=op.f('fk_practice_registrations_practice_id_gp_practices')),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_practice_registrations'))
    )
    with op.batch_alter_table('practice_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practice_registrations_practice_id'), ['practice_id'], unique=False)

    op.create_table('care_coordinations',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('coordinator_user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['coordinator_user_id'], ['users.id'], name=op.f('fk_care_coordinations_coordinator_user_id_users')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_care_coordinations_patient_id_patients')),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_care_coordinations'))
    )
    with op.batch_alter_table('care_coordinations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_coordinations_coordinator_user_id'), ['coordinator_user_id'], unique=False)

    op.create_table('md_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('cadence', sa.String(length=8), nullable=False),
    sa.Column('manager_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("cadence IN ('weekly', 'monthly')", name=op.f('ck_md_groups_cadence')),
    sa.ForeignKeyConstraint(['manager_user_id'], ['users.id'], name=op.f('fk_md_groups_manager_user_id_users')),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_md_groups_network_id_networks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_md_groups')),
    sa.UniqueConstraint('network_id', 'name', name='uq_md_groups_network_name')
    )
    with op.batch_alter_table('md_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_md_groups_network_id'), ['network_id'], unique=False)

    op.create_table('md_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('organisation', sa.String(length=120), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("role IN ('gp', 'practice_nurse', 'district_nurse', 'social_worker', 'consultant', 'mental_health', 'community_pharmacist', 'care_coordinator', 'hybrid_worker', 'therapist', 'mdg_manager')", name=op.f('ck_md_group_members_role')),
    sa.ForeignKeyConstraint(['group_id'], ['md_groups.id'], name=op.f('fk_md_group_members_group_id_md_groups')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_md_group_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_md_group_members'))
    )
    with op.batch_alter_table('md_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_md_group_members_group_id'), ['group_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('md_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_md_group_members_group_id'))

    op.drop_table('md_group_members')
    with op.batch_alter_table('md_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_md_groups_network_id'))

    op.drop_table('md_groups')
    with op.batch_alter_table('care_coordinations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_coordinations_coordinator_user_id'))

    op.drop_table('care_coordinations')
    with op.batch_alter_table('practice_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practice_registrations_practice_id'))

    op.drop_table('practice_registrations')
    with op.batch_alter_table('gp_practices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gp_practices_network_id'))

    op.drop_table('gp_practices')

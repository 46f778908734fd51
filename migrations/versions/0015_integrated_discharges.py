"""discharges

Revision ID: 0015_integrated
Revises: 0014_integrated
Create Date: 2026-12-06 00:48:40.261051

Hospital discharges referred for a follow-up visit within 24 or 48 hours (issue 16,
item 5); the KPI counts follow-ups started in time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_integrated'
down_revision: str | None = '0014_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hospital_discharges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('hospital', sa.String(length=120), nullable=False),
    sa.Column('ward', sa.String(length=80), nullable=True),
    sa.Column('discharged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('follow_up_hours', sa.SmallInteger(), nullable=False),
    sa.Column('summary', sa.String(length=2000), nullable=False),
    sa.Column('care_package_needed', sa.Boolean(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.CheckConstraint('follow_up_hours IN (24, 48)', name=op.f('ck_hospital_discharges_follow_up_hours')),
    sa.ForeignKeyConstraint(['package_id'], ['care_packages.id'], name=op.f('fk_hospital_discharges_package_id_care_packages')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_hospital_discharges_patient_id_patients')),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_hospital_discharges_referral_id_referrals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hospital_discharges')),
    sa.UniqueConstraint('referral_id', name=op.f('uq_hospital_discharges_referral_id'))
    )
    with op.batch_alter_table('hospital_discharges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hospital_discharges_discharged_at'), ['discharged_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hospital_discharges_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('hospital_discharges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hospital_discharges_patient_id'))
        batch_op.drop_index(batch_op.f('ix_hospital_discharges_discharged_at'))

    op.drop_table('hospital_discharges')

"""carers

Revision ID: 0014_integrated
Revises: 0013_integrated
Create Date: 2026-12-06 00:44:01.269576

Carers linked to the patients they look after (relationship, lives with, next of kin,
consent to be contacted, who recorded it) and carers' assessments (issue 16, item 3).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_integrated'
down_revision: str | None = '0013_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('carers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carers'))
    )
    op.create_table('carer_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carer_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assessor', sa.String(length=120), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['carer_id'], ['carers.id'], name=op.f('fk_carer_assessments_carer_id_carers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carer_assessments'))
    )
    with op.batch_alter_table('carer_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carer_assessments_carer_id'), ['carer_id'], unique=False)

    op.create_table('carer_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('carer_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('relationship', sa.String(length=40), nullable=False),
    sa.Column('lives_with_patient', sa.Boolean(), nullable=False),
    sa.Column('next_of_kin', sa.Boolean(), nullable=False),
    sa.Column('consent_to_contact', sa.Boolean(), nullable=False),
    sa.Column('consent_recorded_by', sa.String(length=120), nullable=True),
    sa.Column('consent_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('NOT consent_to_contact OR (consent_recorded_by IS NOT NULL AND consent_recorded_at IS NOT NULL)', name=op.f('ck_carer_links_consent_recorded')),
    sa.ForeignKeyConstraint(['carer_id'], ['carers.id'], name=op.f('fk_carer_links_carer_id_carers')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_carer_links_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carer_links')),
    sa.UniqueConstraint('carer_id', 'patient_id', name='uq_carer_links_carer_patient')
    )
    with op.batch_alter_table('carer_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carer_links_carer_id'), ['carer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_carer_links_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('carer_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carer_links_patient_id'))
        batch_op.drop_index(batch_op.f('ix_carer_links_carer_id'))

    op.drop_table('carer_links')
    with op.batch_alter_table('carer_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_carer_assessments_carer_id'))

    op.drop_table('carer_assessments')
    op.drop_table('carers')

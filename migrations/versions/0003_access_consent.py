"""consent records and episode consent

Revision ID: 0003_access
Revises: 0002
Create Date: 2026-12-05 21:40:00

Consent to share the care plan is recorded and withdrawn on a page; each decision is kept
(``consent_records``: who, when, scope, who gave it). A FHIR Consent in a referral message
applies to that referral's episode only, so it is stored on the referral
(``episode_consent_by``/``_at``) instead of changing the patient's recorded consent.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003_access'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consent_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=12), nullable=False),
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('given_by', sa.String(length=12), nullable=False),
    sa.Column('recorded_by', sa.String(length=120), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("decision IN ('given', 'withdrawn')", name=op.f('ck_consent_records_decision')),
    sa.CheckConstraint("scope IN ('care_plan_direct_care')", name=op.f('ck_consent_records_scope')),
    sa.CheckConstraint("given_by IN ('patient', 'attorney', 'deputy')", name=op.f('ck_consent_records_given_by')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_consent_records_patient_id_patients')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_consent_records_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records'))
    )
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.create_index('ix_consent_records_patient_at', ['patient_id', 'at'], unique=False)
    # Plain ADD COLUMNs (nullable): no table rebuild on SQLite.
    op.add_column('referrals', sa.Column('episode_consent_by', sa.String(length=120),
                                         nullable=True))
    op.add_column('referrals', sa.Column('episode_consent_at',
                                         sa.DateTime(timezone=True),
                                         nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('episode_consent_at')
        batch_op.drop_column('episode_consent_by')
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_records_patient_at')
    op.drop_table('consent_records')

"""care plan reviews

Revision ID: 0012_integrated
Revises: 0011_integrated
Create Date: 2026-12-06 00:30:39.211019

Care plans authored in the service: each version's review date, reviewer and author
(issue 16, item 2). The versions stay in care_plans, read by the H-009 access rules.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012_integrated'
down_revision: str | None = '0011_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('care_plan_reviews',
    sa.Column('care_plan_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('review_due', sa.Date(), nullable=False),
    sa.Column('reviewer', sa.String(length=120), nullable=False),
    sa.Column('reviewer_user_id', sa.Integer(), nullable=True),
    sa.Column('author_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'], name=op.f('fk_care_plan_reviews_author_user_id_users')),
    sa.ForeignKeyConstraint(['care_plan_id'], ['care_plans.id'], name=op.f('fk_care_plan_reviews_care_plan_id_care_plans')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_care_plan_reviews_patient_id_patients')),
    sa.ForeignKeyConstraint(['reviewer_user_id'], ['users.id'], name=op.f('fk_care_plan_reviews_reviewer_user_id_users')),
    sa.PrimaryKeyConstraint('care_plan_id', name=op.f('pk_care_plan_reviews'))
    )
    with op.batch_alter_table('care_plan_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plan_reviews_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('care_plan_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plan_reviews_patient_id'))

    op.drop_table('care_plan_reviews')

"""case conferences

Revision ID: 0016_integrated
Revises: 0015_integrated
Create Date: 2026-12-06 00:50:57.775498

Case conferences of multidisciplinary groups: the cases (patients sent to 999, admitted,
discharged, in jeopardy, or picked), notes and root cause; tasks gain the case they are an
action of (issue 16, item 6).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_integrated'
down_revision: str | None = '0015_integrated'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_conferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['md_groups.id'], name=op.f('fk_case_conferences_group_id_md_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_conferences'))
    )
    with op.batch_alter_table('case_conferences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_conferences_group_id'), ['group_id'], unique=False)

    op.create_table('conference_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('root_cause', sa.String(length=32), nullable=True),
    sa.Column('picked_by', sa.String(length=120), nullable=True),
    sa.CheckConstraint("root_cause IS NULL OR root_cause IN ('clinical_deterioration', 'fall', 'infection', 'medication', 'carer_breakdown', 'care_plan_not_followed', 'no_community_capacity', 'delayed_response', 'social_isolation', 'other')", name=op.f('ck_conference_cases_root_cause')),
    sa.ForeignKeyConstraint(['conference_id'], ['case_conferences.id'], name=op.f('fk_conference_cases_conference_id_case_conferences')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_conference_cases_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conference_cases')),
    sa.UniqueConstraint('conference_id', 'patient_id', name='uq_conference_cases_patient')
    )
    with op.batch_alter_table('conference_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_cases_conference_id'), ['conference_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_cases_patient_id'), ['patient_id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conference_case_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tasks_conference_case_id'), ['conference_case_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tasks_conference_case_id_conference_cases'), 'conference_cases', ['conference_case_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_conference_case_id_conference_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tasks_conference_case_id'))
        batch_op.drop_column('conference_case_id')

    with op.batch_alter_table('conference_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_cases_patient_id'))
        batch_op.drop_index(batch_op.f('ix_conference_cases_conference_id'))

    op.drop_table('conference_cases')
    with op.batch_alter_table('case_conferences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_conferences_group_id'))

    op.drop_table('case_conferences')

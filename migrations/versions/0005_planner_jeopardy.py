"""a coordinator's decision to let a 2-hour visit run late

Revision ID: 0005_planner
Revises: 0004_alarms
Create Date: 2026-12-05 21:30:00

The planner no longer plans a 2-hour visit after its deadline on its own (hazard H-006). When
nobody anywhere can reach one in time it is in jeopardy at once with the new cause
``needs_decision``; the on-call coordinator may then allow it to start late, up to a time and
with a named worker, which the visit now records.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_planner'
down_revision: str | None = '0004_alarms'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CAUSES = "('unassigned', 'not_accepted', 'late_arrival', 'sms_failed', 'declined')"
NEW_CAUSES = ("('unassigned', 'not_accepted', 'late_arrival', 'sms_failed', 'declined', "
              "'needs_decision')")


def upgrade() -> None:
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('late_allowed_until', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('late_allowed_staff_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_visits_late_allowed_staff_id_staff'), 'staff',
                                 ['late_allowed_staff_id'], ['id'])
        batch.drop_constraint(op.f('ck_visits_jeopardy_cause'), type_='check')
        batch.create_check_constraint(
            op.f('ck_visits_jeopardy_cause'),
            f"jeopardy_cause IS NULL OR jeopardy_cause IN {NEW_CAUSES}")


def downgrade() -> None:
    op.execute("UPDATE visits SET jeopardy_cause = 'unassigned' "
               "WHERE jeopardy_cause = 'needs_decision'")
    with op.batch_alter_table('visits') as batch:
        batch.drop_constraint(op.f('ck_visits_jeopardy_cause'), type_='check')
        batch.create_check_constraint(
            op.f('ck_visits_jeopardy_cause'),
            f"jeopardy_cause IS NULL OR jeopardy_cause IN {OLD_CAUSES}")
        batch.drop_constraint(op.f('fk_visits_late_allowed_staff_id_staff'),
                              type_='foreignkey')
        batch.drop_column('late_allowed_staff_id')
        batch.drop_column('late_allowed_until')

"""absences: the visits an absence took off the worker

Revision ID: 0030_control
Revises: 0029_carework
Create Date: 2026-12-06 04:10:00

When an absence is cancelled the page says what became of the visits it released (back with
the worker after the re-plan, kept by whoever accepted them, or still to place), so the
absence remembers them (issue 14). Absences recorded before this have none listed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0030_control'
down_revision: str | None = '0029_carework'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('absences', sa.Column('released_visit_ids', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('absences') as batch:
        batch.drop_column('released_visit_ids')

"""the planner's reason for leaving a visit unassigned or late

Revision ID: 0009_control
Revises: 0008_intake
Create Date: 2026-12-05 22:50:00

``visits.reason`` is triage's reason for the visit; the planner's own reason for not placing
it (or placing it late) now has its column, shown on the board and in ``GET /api/visits/{id}``
as ``unassigned_reason`` (issue 14).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_control'
down_revision: str | None = '0008_intake'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('unassigned_reason', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('unassigned_reason')

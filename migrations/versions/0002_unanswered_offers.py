"""workers who did not answer an offer

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:40:00

An offer that lapses unanswered used to exclude the worker like a decline. A missed text is
not a refusal: the planner now offers the visit to them again when nobody else can meet the
deadline, so the visit remembers who did not answer, apart from who declined.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite supports it with a constant default): no table rebuild.
    op.add_column('visits', sa.Column('unanswered_staff_ids', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.drop_column('visits', 'unanswered_staff_ids')

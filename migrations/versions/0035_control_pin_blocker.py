"""visits: the coordinator's pin that keeps a 2-hour visit unplaced

Revision ID: 0035_control
Revises: 0034_production
Create Date: 2026-12-06 07:20:00

After a planning run leaves a 2-hour visit unplaced, the pinned visit whose worker could have
reached it in time is stored on it, so the board names the pin and its cost (issue 14). A
plain integer, not a foreign key: a hint the board re-checks against its own rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0035_control'
down_revision: str | None = '0034_production'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('visits', sa.Column('blocked_by_pin_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+, PostgreSQL): the column is in no index or key, and a
    # batch copy of visits would reflect patients' expression index (0028), which warns.
    op.drop_column('visits', 'blocked_by_pin_id')

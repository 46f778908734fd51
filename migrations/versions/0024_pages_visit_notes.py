"""the worker's notes and simple observations at a visit's outcome

Revision ID: 0024_pages
Revises: 0023_lead
Create Date: 2026-12-06 01:20:00

The field staff visit page asks for notes and a few observations (pulse, respiration rate,
SpO2, systolic blood pressure, temperature) with the outcome (issue 14); they are kept on the
visit with the outcome they belong to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024_pages'
down_revision: str | None = '0023_lead'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('outcome_notes', sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column('outcome_observations', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('outcome_observations')
        batch.drop_column('outcome_notes')

"""network tier rules: who serves whom by risk tier

Revision ID: 0027_tiers
Revises: 0026_workers
Create Date: 2026-12-06 04:10:00

Issue 17 item 1: each network may set which risk tiers its hybrid workers serve, which tiers
its care coordinators own and the priority of planned visits by tier. A NULL column (every
existing network) means the seeds' defaults (dispatch.services.strata): hybrid workers the
top two tiers, coordinators the top three, planned visits by tier.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027_tiers'
down_revision: str | None = '0026_workers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('networks') as batch:
        batch.add_column(sa.Column('tier_rules', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('networks') as batch:
        batch.drop_column('tier_rules')

"""networks: the manager's phone, texted when an urgent decision is still not made

Revision ID: 0031_lead
Revises: 0030_control
Create Date: 2026-12-06 07:40:00

The deadline watch reminds the on-call coordinator when a 2-hour visit nobody can reach still
waits for their decision, and then texts the network's manager (hazard H-040, control C2).
The on-call phone was set only by the demo data; both are now set through
``PUT /api/networks/{id}/contacts`` and ``dispatch network contacts``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0031_lead'
down_revision: str | None = '0030_control'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('networks', sa.Column('manager_phone', sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('networks') as batch:
        batch.drop_column('manager_phone')

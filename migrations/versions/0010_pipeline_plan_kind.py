"""a stored run is a proposal or a coordinator's re-plan

Revision ID: 0010_pipeline
Revises: 0009_control
Create Date: 2026-12-05 22:55:00

``POST /api/networks/{id}/replan`` is recorded as a ``plans`` row like a plan request, solved
by the same job through the same pipeline, but applied: ``kind`` tells the two apart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_pipeline'
down_revision: str | None = '0009_control'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('plans') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=12), nullable=False,
                                   server_default='proposal'))
        batch.create_check_constraint(op.f('ck_plans_kind'), "kind IN ('proposal', 'replan')")


def downgrade() -> None:
    op.execute("DELETE FROM plans WHERE kind = 'replan'")
    with op.batch_alter_table('plans') as batch:
        batch.drop_constraint(op.f('ck_plans_kind'), type_='check')
        batch.drop_column('kind')

"""web security: a session generation per user

Revision ID: 0007_websec
Revises: 0006_triage (re-chained after main's migrations at merge)
Create Date: 2026-12-05 21:40:00

Signing out used to clear only the browser's cookie, so a copied cookie kept working. Every
web session now carries its user's ``session_generation``; signing out or disabling the
account adds one and so ends every session signed in before (issue 20 item 9).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_websec'
down_revision: str | None = '0006_triage'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: no table rebuild on SQLite.
    op.add_column('users', sa.Column('session_generation', sa.Integer(), nullable=False,
                                     server_default=sa.text('0')))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_generation')

"""users signed in by an OpenID Connect provider: its issuer and subject

Revision ID: 0023_lead
Revises: 0022_lead
Create Date: 2026-12-06 00:50:00

NHS-style sign-in (issue 18 part 2): a user the provider signs in is found again by the
provider's (issuer, subject), never by a name that could be reused.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023_lead'
down_revision: str | None = '0022_lead'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('identity_issuer', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('identity_subject', sa.String(length=255), nullable=True))
        batch.create_unique_constraint('uq_users_identity',
                                       ['identity_issuer', 'identity_subject'])


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('uq_users_identity', type_='unique')
        batch.drop_column('identity_subject')
        batch.drop_column('identity_issuer')

"""patients without an NHS number; referrals marked as duplicates

Revision ID: 0008_intake
Revises: 0007_websec
Create Date: 2026-12-05 21:40:00

Hazard H-001: a caller who does not know the NHS number must not be pushed into guessing one,
so a patient may be registered without it (``nhs_number`` NULL, ``nhs_number_status``
``not_known``, flagged for tracing). Every existing patient has a number: ``present``.
Hazard H-002: a coordinator marks a referral a duplicate of another; ``duplicate_of_id``
records which.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008_intake'
down_revision: str | None = '0007_websec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nhs_number_status', sa.String(length=10), nullable=False,
                                      server_default='present'))
        batch_op.alter_column('nhs_number', existing_type=sa.String(length=10), nullable=True)
        batch_op.create_check_constraint(
            'nhs_number_status', "nhs_number_status IN ('present', 'not_known')")
        batch_op.create_check_constraint(
            'nhs_number_status_matches',
            "(nhs_number IS NULL) = (nhs_number_status = 'not_known')")
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_referrals_duplicate_of_id_referrals'),
                                    'referrals', ['duplicate_of_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referrals_duplicate_of_id_referrals'),
                                 type_='foreignkey')
        batch_op.drop_column('duplicate_of_id')
    # Patients registered without a number cannot go back to a NOT NULL column: refuse rather
    # than delete them.
    unknown = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM patients WHERE nhs_number IS NULL"))
    if unknown:
        raise RuntimeError(f"{unknown} patients have no NHS number; trace them before "
                           "downgrading below 0008_intake")
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_constraint('nhs_number_status_matches', type_='check')
        batch_op.drop_constraint('nhs_number_status', type_='check')
        batch_op.alter_column('nhs_number', existing_type=sa.String(length=10), nullable=False)
        batch_op.drop_column('nhs_number_status')

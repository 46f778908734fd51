"""patients: the database refuses a placeholder NHS number (one digit repeated)

Revision ID: 0032_lead
Revises: 0031_lead
Create Date: 2026-12-06 07:45:00

Hazard H-017, control C2: 0000000000 ... 9999999999 all pass the modulus-11 check, so the
Python check refused them but hand-written SQL could still store one, and unrelated patients
would then share it. Any stored placeholder becomes ``not_known`` (flagged for tracing, as a
caller who does not know the number) before the CHECK is added, so the upgrade never fails on
old data; how many were changed is printed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0032_lead'
down_revision: str | None = '0031_lead'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOT_PLACEHOLDER = "replace(nhs_number, substr(nhs_number, 1, 1), '') <> ''"
# 0028's expression index: SQLite's batch mode copies the table and cannot carry an index on
# an expression over, so it is dropped first and made again after.
NAME_INDEX = 'ix_patients_family_name_lower_dob'


def _batch_check(add: bool) -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.execute(sa.text(f'DROP INDEX IF EXISTS {NAME_INDEX}'))
    with op.batch_alter_table('patients') as batch:
        if add:
            batch.create_check_constraint(op.f('ck_patients_nhs_number_not_placeholder'),
                                          NOT_PLACEHOLDER)
        else:
            batch.drop_constraint(op.f('ck_patients_nhs_number_not_placeholder'),
                                  type_='check')
    if sqlite:
        op.execute(sa.text(f'CREATE INDEX IF NOT EXISTS {NAME_INDEX} ON patients '
                           '(lower(family_name), date_of_birth)'))


def upgrade() -> None:
    changed = op.get_bind().execute(sa.text(
        "UPDATE patients SET nhs_number = NULL, nhs_number_status = 'not_known' "
        f"WHERE nhs_number IS NOT NULL AND NOT ({NOT_PLACEHOLDER})")).rowcount
    if changed:
        print(f"0032: {changed} placeholder NHS number(s) set to not_known for tracing")
    _batch_check(add=True)


def downgrade() -> None:
    _batch_check(add=False)

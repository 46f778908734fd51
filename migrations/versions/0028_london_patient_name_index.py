"""patients: an index for the search by name (lower(family_name), date_of_birth)

Revision ID: 0028_london
Revises: 0027_tiers
Create Date: 2026-12-06 04:15:00

The handler's search compares ``lower(family_name)`` (and usually the date of birth), which
the existing ``ix_patients_match`` (plain ``family_name``) cannot serve: on a 9-million-patient
register (issue 18 part 6, benchmarks/london_bench.py) every name search read the whole table.
An expression index works on PostgreSQL and SQLite alike. On a large PostgreSQL register,
build it beforehand with ``CREATE INDEX CONCURRENTLY`` under the same name to avoid locking
the table; this migration then finds it and does nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028_london'
down_revision: str | None = '0027_tiers'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 'ix_patients_family_name_lower_dob'


def upgrade() -> None:
    op.execute(sa.text(f'CREATE INDEX IF NOT EXISTS {NAME} ON patients '
                       '(lower(family_name), date_of_birth)'))


def downgrade() -> None:
    op.drop_index(NAME, table_name='patients')

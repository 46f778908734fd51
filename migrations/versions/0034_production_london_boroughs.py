"""networks: every London borough, not only the tri-borough's three

Revision ID: 0034_production
Revises: 0033_carework
Create Date: 2026-12-06 07:20:00

A London deployment (issue 18) has networks in all 32 boroughs and the City of London: the
check on ``networks.borough`` opens to those 33 names (ONS, E09000001-E09000033; the two
tri-borough names keep their "&" spelling, so existing rows stay valid). The names are written
out here, not imported from the live model code, so this revision means what it meant when it
was written. Downgrading fails while a network is outside the three.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0034_production'
down_revision: str | None = '0033_carework'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("Hammersmith & Fulham", "Kensington & Chelsea", "Westminster")
NEW = (
    "City of London", "Barking and Dagenham", "Barnet", "Bexley", "Brent", "Bromley",
    "Camden", "Croydon", "Ealing", "Enfield", "Greenwich", "Hackney", "Hammersmith & Fulham",
    "Haringey", "Harrow", "Havering", "Hillingdon", "Hounslow", "Islington",
    "Kensington & Chelsea", "Kingston upon Thames", "Lambeth", "Lewisham", "Merton", "Newham",
    "Redbridge", "Richmond upon Thames", "Southwark", "Sutton", "Tower Hamlets",
    "Waltham Forest", "Wandsworth", "Westminster",
)


def _check(names: Sequence[str]) -> str:
    quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in names)
    return f"borough IN ({quoted})"


def upgrade() -> None:
    with op.batch_alter_table('networks') as batch:
        batch.drop_constraint(op.f('ck_networks_borough'), type_='check')
        batch.create_check_constraint(op.f('ck_networks_borough'), _check(NEW))


def downgrade() -> None:
    outside = op.get_bind().scalar(sa.text(
        f"SELECT count(*) FROM networks WHERE NOT ({_check(OLD)})"))
    if outside:
        raise RuntimeError(f"{outside} network(s) are outside the tri-borough: move them "
                           "before downgrading below this revision")
    with op.batch_alter_table('networks') as batch:
        batch.drop_constraint(op.f('ck_networks_borough'), type_='check')
        batch.create_check_constraint(op.f('ck_networks_borough'), _check(OLD))

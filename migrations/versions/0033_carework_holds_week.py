"""slot holds: a double-handed visit's second carer held too; plans: the week's plan kinds

Revision ID: 0033_carework
Revises: 0032_lead
Create Date: 2026-12-06 07:30:00

Issue 15 (hazard H-150): a window offered for a double-handed visit held only the first
carer's time; the second carer's shift and planned start are kept with the hold so that both
are held. Nullable: holds of single-handed visits (and those made before) have none.

The week's plan runs as a planning task, stored as a ``plans`` row of kind ``week`` (commit)
or ``week_preview`` (dry run).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0033_carework'
down_revision: str | None = '0032_lead'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: SQLite rebuilds the table; its foreign keys' tables need not be reflected (the patients'
#: expression index cannot be, and says so in a warning).
REFLECT = {"resolve_fks": False}


OLD_KINDS = "kind IN ('proposal', 'replan')"
NEW_KINDS = "kind IN ('proposal', 'replan', 'week', 'week_preview')"


def upgrade() -> None:
    with op.batch_alter_table('plans', reflect_kwargs=REFLECT) as batch:
        batch.drop_constraint(op.f('ck_plans_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_plans_kind'), NEW_KINDS)
    with op.batch_alter_table('slot_holds', reflect_kwargs=REFLECT) as batch:
        batch.add_column(sa.Column('partner_shift_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('partner_planned_start', sa.DateTime(timezone=True),
                                   nullable=True))
        batch.create_foreign_key(op.f('fk_slot_holds_partner_shift_id_shifts'), 'shifts',
                                 ['partner_shift_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM plans WHERE kind IN ('week', 'week_preview')")
    with op.batch_alter_table('plans', reflect_kwargs=REFLECT) as batch:
        batch.drop_constraint(op.f('ck_plans_kind'), type_='check')
        batch.create_check_constraint(op.f('ck_plans_kind'), OLD_KINDS)
    with op.batch_alter_table('slot_holds', reflect_kwargs=REFLECT) as batch:
        batch.drop_constraint(op.f('fk_slot_holds_partner_shift_id_shifts'), type_='foreignkey')
        batch.drop_column('partner_planned_start')
        batch.drop_column('partner_shift_id')

"""out_of_scope dispositions and red-flag answers

Revision ID: 0006_triage
Revises: 0005_planner (re-chained after main's 0003-0005; was 0002)
Create Date: 2026-12-05 21:30:00

Issue 13. H-004: a child (under 18) is never given a community visit or a signpost; triage
answers ``out_of_scope`` (the children's pathway) and the referral ends in status
``out_of_scope``. Both CHECK constraints on referrals (category, status) and the category CHECK
on visits gain the new value. H-003: red flags are explicit answers (yes / no / not asked),
kept with the referral in ``red_flag_answers``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_triage'
down_revision: str | None = '0005_planner'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_CATEGORIES = "'emergency_999', 'urgent_2h', 'response_24h', 'planned', 'signpost'"
_NEW_CATEGORIES = _OLD_CATEGORIES + ", 'out_of_scope'"
_OLD_STATUSES = ("'received', 'triaged', 'scheduled', 'in_progress', 'escalated', "
                 "'sent_to_999', 'signposted', 'completed', 'cancelled', 'rejected'")
_NEW_STATUSES = ("'received', 'triaged', 'scheduled', 'in_progress', 'escalated', "
                 "'sent_to_999', 'signposted', 'out_of_scope', 'completed', 'cancelled', "
                 "'rejected'")


def _checks(categories: str, statuses: str) -> None:
    with op.batch_alter_table('referrals') as batch:
        batch.drop_constraint(op.f('ck_referrals_category'), type_='check')
        batch.create_check_constraint(
            op.f('ck_referrals_category'), f"category IS NULL OR category IN ({categories})")
        batch.drop_constraint(op.f('ck_referrals_status'), type_='check')
        batch.create_check_constraint(op.f('ck_referrals_status'), f"status IN ({statuses})")
    with op.batch_alter_table('visits') as batch:
        batch.drop_constraint(op.f('ck_visits_category'), type_='check')
        batch.create_check_constraint(op.f('ck_visits_category'), f"category IN ({categories})")


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite supports it with a constant default) before the rebuilds.
    op.add_column('referrals', sa.Column('red_flag_answers', sa.JSON(), nullable=False,
                                         server_default=sa.text("'{}'")))
    _checks(_NEW_CATEGORIES, _NEW_STATUSES)


def downgrade() -> None:
    # Rows that only the new values allow cannot go back: refuse rather than corrupt them.
    bind = op.get_bind()
    left = bind.execute(sa.text(
        "SELECT count(*) FROM referrals WHERE category = 'out_of_scope' "
        "OR status = 'out_of_scope'")).scalar()
    if left:
        raise RuntimeError(f"{left} referral(s) are out_of_scope; cannot downgrade below 0006_triage")
    _checks(_OLD_CATEGORIES, _OLD_STATUSES)
    with op.batch_alter_table('referrals') as batch:
        batch.drop_column('red_flag_answers')

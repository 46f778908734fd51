"""consent scopes: contact the carer, text the patient

Revision ID: 0025_integ16
Revises: 0024_pages
Create Date: 2026-12-06 02:15:00

Consent records (issue 16, item 4) gain two scopes besides sharing the care plan: the
patient's consent to their carer being contacted and to being texted. Only the check
constraint on ``consent_records.scope`` changes; existing records keep their scope.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0025_integ16'
down_revision: str | None = '0024_pages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('consent_records') as batch:
        batch.drop_constraint(op.f('ck_consent_records_scope'), type_='check')
        batch.create_check_constraint(
            op.f('ck_consent_records_scope'),
            "scope IN ('care_plan_direct_care', 'contact_carer', 'text_patient')")


def downgrade() -> None:
    op.execute("DELETE FROM consent_records WHERE scope <> 'care_plan_direct_care'")
    with op.batch_alter_table('consent_records') as batch:
        batch.drop_constraint(op.f('ck_consent_records_scope'), type_='check')
        batch.create_check_constraint(op.f('ck_consent_records_scope'),
                                      "scope IN ('care_plan_direct_care')")

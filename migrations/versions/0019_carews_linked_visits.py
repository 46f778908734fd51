"""linked visits (double-handed, follow-on, spacing) and package lines that ask for them

Revision ID: 0019_carews
Revises: 0018_control
Create Date: 2026-12-06 00:40:00

Issue 15: a visit that needs two staff is stored as two visits joined by a ``visit_links``
row (gap 0..0, different workers); a package line may need two staff, follow another line
within a gap, or keep its visits apart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019_carews'
down_revision: str | None = '0018_control'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'visit_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('first_visit_id', sa.Integer(), nullable=False),
        sa.Column('second_visit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('min_gap_minutes', sa.Integer(), nullable=False),
        sa.Column('max_gap_minutes', sa.Integer(), nullable=False),
        sa.Column('workers', sa.String(length=12), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('double_handed', 'follow_on', 'spacing')",
                           name=op.f('ck_visit_links_kind')),
        sa.CheckConstraint("workers IN ('different', 'same', 'any')",
                           name=op.f('ck_visit_links_workers')),
        sa.CheckConstraint('first_visit_id <> second_visit_id',
                           name=op.f('ck_visit_links_two_visits')),
        sa.CheckConstraint('min_gap_minutes >= 0 AND min_gap_minutes <= max_gap_minutes',
                           name=op.f('ck_visit_links_gap')),
        sa.CheckConstraint(
            "kind <> 'double_handed' OR (min_gap_minutes = 0 AND max_gap_minutes = 0 "
            "AND workers = 'different')", name=op.f('ck_visit_links_double_handed')),
        sa.ForeignKeyConstraint(['first_visit_id'], ['visits.id'],
                                name=op.f('fk_visit_links_first_visit_id_visits')),
        sa.ForeignKeyConstraint(['second_visit_id'], ['visits.id'],
                                name=op.f('fk_visit_links_second_visit_id_visits')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_links')),
        sa.UniqueConstraint('first_visit_id', name=op.f('uq_visit_links_first_visit_id')),
        sa.UniqueConstraint('second_visit_id', name=op.f('uq_visit_links_second_visit_id')),
    )
    with op.batch_alter_table('care_package_items') as batch:
        batch.add_column(sa.Column('staff_count', sa.SmallInteger(), nullable=False,
                                   server_default='1'))
        batch.add_column(sa.Column('follows_item_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('follow_min_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('follow_max_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('min_spacing_hours', sa.Float(), nullable=True))
        batch.create_foreign_key(op.f('fk_care_package_items_follows_item_id_care_package_items'),
                                 'care_package_items', ['follows_item_id'], ['id'])
        batch.create_check_constraint(op.f('ck_care_package_items_staff_count'),
                                      'staff_count IN (1, 2)')
        batch.create_check_constraint(
            op.f('ck_care_package_items_follow_gap'),
            "follows_item_id IS NULL OR (follow_min_minutes IS NOT NULL AND "
            "follow_max_minutes IS NOT NULL AND follow_min_minutes >= 0 AND "
            "follow_min_minutes <= follow_max_minutes)")
        batch.create_check_constraint(op.f('ck_care_package_items_spacing'),
                                      'min_spacing_hours IS NULL OR min_spacing_hours > 0')


def downgrade() -> None:
    with op.batch_alter_table('care_package_items') as batch:
        batch.drop_constraint(op.f('ck_care_package_items_spacing'), type_='check')
        batch.drop_constraint(op.f('ck_care_package_items_follow_gap'), type_='check')
        batch.drop_constraint(op.f('ck_care_package_items_staff_count'), type_='check')
        batch.drop_constraint(op.f('fk_care_package_items_follows_item_id_care_package_items'),
                              type_='foreignkey')
        batch.drop_column('min_spacing_hours')
        batch.drop_column('follow_max_minutes')
        batch.drop_column('follow_min_minutes')
        batch.drop_column('follows_item_id')
        batch.drop_column('staff_count')
    op.drop_table('visit_links')

"""Care packages: a tariff of items, priced by the system, approved within a threshold."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list
from dispatch.models.vocab import PACKAGE_STATUSES


class TariffItem(Base):
    """A priced item (home care hour, night sitting...) valid over a date range."""

    __tablename__ = "tariff_items"
    __table_args__ = (
        sa.UniqueConstraint("code", "effective_from", name="uq_tariff_items_code_from"),
        sa.CheckConstraint("unit_cost_pence >= 0", name="unit_cost"),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name="effective_range"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    unit: so.Mapped[str] = so.mapped_column(sa.String(24))
    unit_cost_pence: so.Mapped[int] = so.mapped_column(sa.Integer)
    effective_from: so.Mapped[date] = so.mapped_column(sa.Date)
    effective_to: so.Mapped[date | None] = so.mapped_column(sa.Date)


class CarePackage(Base):
    """A package for one patient; costs are computed from its items, never typed in."""

    __tablename__ = "care_packages"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", PACKAGE_STATUSES), name="status"),
        sa.CheckConstraint("weekly_cost_pence >= 0 AND total_cost_pence >= 0", name="costs"),
        sa.CheckConstraint(
            "status <> 'rejected' OR decision_reason IS NOT NULL", name="rejection_reason"
        ),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="draft")
    start_date: so.Mapped[date] = so.mapped_column(sa.Date)
    end_date: so.Mapped[date | None] = so.mapped_column(sa.Date)
    weekly_cost_pence: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    total_cost_pence: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    submitted_at: so.Mapped[datetime | None]
    decided_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    decided_at: so.Mapped[datetime | None]
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = created_at_column()

    items: so.Mapped[list[CarePackageItem]] = so.relationship(back_populates="package")


class CarePackageItem(Base):
    """One line of a package: a tariff item, how many units a week, for how many weeks."""

    __tablename__ = "care_package_items"
    __table_args__ = (
        sa.CheckConstraint("units_per_week > 0", name="units"),
        sa.CheckConstraint("weeks > 0", name="weeks"),
        sa.CheckConstraint("unit_cost_pence >= 0", name="unit_cost"),
        sa.CheckConstraint("staff_count IN (1, 2)", name="staff_count"),
        sa.CheckConstraint(
            "follows_item_id IS NULL OR (follow_min_minutes IS NOT NULL AND "
            "follow_max_minutes IS NOT NULL AND follow_min_minutes >= 0 AND "
            "follow_min_minutes <= follow_max_minutes)", name="follow_gap"),
        sa.CheckConstraint("min_spacing_hours IS NULL OR min_spacing_hours > 0",
                           name="spacing"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    package_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_packages.id"), index=True)
    tariff_item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("tariff_items.id"))
    units_per_week: so.Mapped[float] = so.mapped_column(sa.Float)
    weeks: so.Mapped[int] = so.mapped_column(sa.Integer)
    # Copied from the tariff when the item is added, so a later price change never alters it.
    unit_cost_pence: so.Mapped[int] = so.mapped_column(sa.Integer)
    #: Staff each visit needs: 2 for a double-handed call (a hoist transfer).
    staff_count: so.Mapped[int] = so.mapped_column(sa.SmallInteger, default=1)
    #: "Then this within N-M minutes": each of this line's visits follows one of that line's
    #: visits on the same day, starting ``follow_min_minutes``..``follow_max_minutes`` after it.
    follows_item_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("care_package_items.id"))
    follow_min_minutes: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    follow_max_minutes: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    #: "At least N hours apart": this line's visits on one day start at least this far apart.
    min_spacing_hours: so.Mapped[float | None] = so.mapped_column(sa.Float)

    package: so.Mapped[CarePackage] = so.relationship(back_populates="items")

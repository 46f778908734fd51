"""Pooled network budgets: health and social care money for care packages, per period."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column


class NetworkBudget(Base):
    """A network's pooled budget for ``period_start`` (inclusive) to ``period_end``
    (exclusive); health and social care parts are held apart but spent as one pot."""

    __tablename__ = "network_budgets"
    __table_args__ = (
        sa.CheckConstraint("period_end > period_start", name="period"),
        sa.CheckConstraint("health_pence >= 0 AND social_care_pence >= 0", name="amounts"),
        sa.UniqueConstraint("network_id", "period_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    network_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    period_start: so.Mapped[date] = so.mapped_column(sa.Date)
    period_end: so.Mapped[date] = so.mapped_column(sa.Date)
    health_pence: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    social_care_pence: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = created_at_column()

    @property
    def total_pence(self) -> int:
        """The pooled pot."""
        return self.health_pence + self.social_care_pence

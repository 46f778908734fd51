"""Stored scheduling runs: what was asked, and the plan the solver returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list
from dispatch.models.vocab import PLAN_KINDS, PLAN_STATUSES


class Plan(Base):
    """A solve for one network over a horizon; ``result`` holds the plan JSON."""

    __tablename__ = "plans"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", PLAN_STATUSES), name="status"),
        sa.CheckConstraint(in_list("kind", PLAN_KINDS), name="kind"),
        sa.CheckConstraint("horizon_end > horizon_start", name="horizon"),
        sa.CheckConstraint("seconds > 0 AND seconds <= 600", name="seconds"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="pending")
    kind: so.Mapped[str] = so.mapped_column(sa.String(12), default="proposal",
                                            server_default="proposal")
    horizon_start: so.Mapped[datetime]
    horizon_end: so.Mapped[datetime]
    seconds: so.Mapped[float] = so.mapped_column(sa.Float)
    requested_by: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    result: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = created_at_column()
    finished_at: so.Mapped[datetime | None]

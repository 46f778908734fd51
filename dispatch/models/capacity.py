"""Stored capacity-planner runs: what was asked, how far the search has got, its answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, created_at_column, in_list
from dispatch.models.vocab import PLAN_STATUSES


class CapacityPlan(Base):
    """A ``dispatch capacity plan`` run requested over the API or the page, run as a job.

    ``request`` holds the planner's inputs (date, seed, target, networks, growth, days);
    ``progress`` (0-1) and ``note`` say how far the search has got while it runs; ``result``
    is the CLI's JSON (the recommended staffing file and its figures) once done.
    """

    __tablename__ = "capacity_plans"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", PLAN_STATUSES), name="status"),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="pending")
    request: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    progress: so.Mapped[float] = so.mapped_column(sa.Float, default=0.0)
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    result: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    requested_by: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    created_at: so.Mapped[datetime] = created_at_column()
    started_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

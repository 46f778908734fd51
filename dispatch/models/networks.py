"""Provider networks and the staff bases they run from."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, in_list
from dispatch.models.vocab import BOROUGHS


class Network(Base):
    """A provider network (GP practices, community and social care) covering part of a borough."""

    __tablename__ = "networks"
    __table_args__ = (sa.CheckConstraint(in_list("borough", BOROUGHS), name="borough"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    borough: so.Mapped[str] = so.mapped_column(sa.String(40))
    on_call_phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    #: The network's manager, texted when an urgent decision waits too long for the on-call
    #: coordinator (H-040-C2; dispatch.services.decision_reminders).
    manager_phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    #: How many plans have been applied to the network: read with a plan's problem and checked
    #: (and moved on) in the apply's transaction, so a plan read before a newer one was applied
    #: is never written over it (issue 18 part 5, hazard H-086; dispatch.planning.tasks).
    plan_generation: so.Mapped[int] = so.mapped_column(sa.Integer, default=0,
                                                       server_default="0")
    #: Who serves whom by risk tier (issue 17): ``{"hybrid_tiers": [...], "coordinated_tiers":
    #: [...], "planned_priority": {tier: priority}, "urgent_any_tier": bool}``, any key left
    #: out taking the seeds' default (dispatch.services.strata); None: every default.
    tier_rules: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)


class StaffBase(Base):
    """Where a shift starts and ends (a community hub, a health centre)."""

    __tablename__ = "bases"
    __table_args__ = (
        sa.CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="coords"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    postcode: so.Mapped[str] = so.mapped_column(sa.String(10))
    lat: so.Mapped[float] = so.mapped_column(sa.Float)
    lon: so.Mapped[float] = so.mapped_column(sa.Float)

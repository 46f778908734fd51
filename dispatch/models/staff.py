"""Field staff and their rostered shifts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list
from dispatch.models.vocab import ABSENCE_REASONS, STAFF_ROLES, TRAVEL_MODES

# E.164: '+' then 8 to 15 digits. Portable SQL (no regex on SQLite).
E164_SQL = (
    "phone LIKE '+%' AND length(phone) BETWEEN 9 AND 16 AND "
    "length(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace("
    "substr(phone, 2), '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), "
    "'7', ''), '8', ''), '9', '')) = 0"
)


class Staff(Base):
    """A member of staff who can be sent to visits (or, for coordinators, escalated to)."""

    __tablename__ = "staff"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", STAFF_ROLES), name="role"),
        sa.CheckConstraint(in_list("travel_mode", TRAVEL_MODES), name="travel_mode"),
        sa.CheckConstraint(E164_SQL, name="phone_e164"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    skills: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    phone: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    base_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("bases.id"))
    travel_mode: so.Mapped[str] = so.mapped_column(sa.String(16), default="car")
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    created_at: so.Mapped[datetime] = created_at_column()


class Shift(Base):
    """A rostered shift: one route for the scheduler, from its base back to its base."""

    __tablename__ = "shifts"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_shifts_staff_start", "staff_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(48), unique=True)
    staff_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff.id"))
    base_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bases.id"))
    starts_at: so.Mapped[datetime] = so.mapped_column(index=True)
    ends_at: so.Mapped[datetime]
    # [{"start": iso, "end": iso}, ...]; checked inside the shift by rosters/ on the way in.
    breaks: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON, default=list)
    sick_from: so.Mapped[datetime | None]


class Absence(Base):
    """A worker off sick, absent or finishing early from ``starts_at`` until ``ends_at``.

    The planner gives them no visit in that time (a shift's end comes forward to the start of
    an absence running past it, as ``Shift.sick_from``; an absence inside a shift is a fixed
    break). Cancelling it keeps the row (who cancelled, when).
    """

    __tablename__ = "absences"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.CheckConstraint(in_list("reason", ABSENCE_REASONS), name="reason"),
        sa.Index("ix_absences_staff_start", "staff_id", "starts_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    staff_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff.id"))
    starts_at: so.Mapped[datetime]
    ends_at: so.Mapped[datetime]
    reason: so.Mapped[str] = so.mapped_column(sa.String(16))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_by: so.Mapped[str] = so.mapped_column(sa.String(80))
    created_at: so.Mapped[datetime] = created_at_column()
    cancelled_at: so.Mapped[datetime | None]
    cancelled_by: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    #: The visits recording it took off the worker (what became of them is reported when
    #: it is cancelled); None for absences recorded before this was kept.
    released_visit_ids: so.Mapped[list[int] | None] = so.mapped_column(sa.JSON)

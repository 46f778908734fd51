"""The append-only audit trail: who saw or changed what, when and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column


class AuditEvent(Base):
    """One audited action. Rows are only ever inserted: no code path updates or deletes them,
    and on PostgreSQL a trigger (see the migration) refuses UPDATE and DELETE outright."""

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_patient_at", "patient_id", "at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = created_at_column()
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    username: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    role: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    action: so.Mapped[str] = so.mapped_column(sa.String(48))
    entity_type: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    entity_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    patient_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("patients.id"))
    purpose: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    request_id: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    details: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)

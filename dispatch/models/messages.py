"""SMS messages, out and in, with their delivery status (the outbox and the inbox)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list, utcnow
from dispatch.models.vocab import MESSAGE_DIRECTIONS, MESSAGE_STATUSES


class Message(Base):
    """An SMS. Outbound rows are written in the same transaction as the change they announce
    and sent afterwards by a job; ``send_key`` makes the send idempotent across crashes."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.CheckConstraint(in_list("direction", MESSAGE_DIRECTIONS), name="direction"),
        sa.CheckConstraint(in_list("status", MESSAGE_STATUSES), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.CheckConstraint(
            "(direction = 'inbound') = (status = 'received')", name="inbound_received"
        ),
        sa.Index("ix_messages_pending", "status", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    direction: so.Mapped[str] = so.mapped_column(sa.String(8))
    to_number: so.Mapped[str] = so.mapped_column(sa.String(16))
    from_number: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    body: so.Mapped[str] = so.mapped_column(sa.String(1600))
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="pending")
    visit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff.id"), index=True)
    send_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    provider_sid: so.Mapped[str | None] = so.mapped_column(sa.String(64), unique=True)
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    next_attempt_at: so.Mapped[datetime | None]
    error_code: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    error_message: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = created_at_column()
    sent_at: so.Mapped[datetime | None]
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)

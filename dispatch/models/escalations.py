"""Escalations to a network's on-call coordinator, and the texts that carry them grouped.

An :class:`Escalation` is one thing a coordinator must act on (a visit entering jeopardy, a
text to a worker that failed, a worker who opted out of SMS). Its ``key`` is unique, so the
same event raised twice (two watch runs, ten identical delivery reports) is one row however
the writers interleave: the database decides, not a dict in one process. Every escalation is
shown on the board; the on-call phone gets them grouped (``message_id`` is the grouped text
that listed it; NULL means queued for the next one).

:class:`OnCallText` holds when each on-call phone was last texted; claiming the right to send
the next grouped text is a compare-and-set on that row, so two processes never both send.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column


class Escalation(Base):
    """One escalation to the on-call coordinator (see the module docstring)."""

    __tablename__ = "escalations"
    __table_args__ = (sa.Index("ix_escalations_queue", "to_number", "message_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: What makes two escalations the same one, e.g. ``jeopardy:12:v7:unassigned`` or
    #: ``sms_failed:345``.
    key: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    cause: so.Mapped[str] = so.mapped_column(sa.String(120))
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    visit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)
    staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff.id"))
    #: The on-call phone when it was raised; NULL when the network has none (board only).
    to_number: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    message_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("messages.id"))
    created_at: so.Mapped[datetime] = created_at_column()
    cleared_at: so.Mapped[datetime | None]


class OnCallText(Base):
    """When an on-call phone was last sent a grouped escalation text."""

    __tablename__ = "on_call_texts"

    to_number: so.Mapped[str] = so.mapped_column(sa.String(16), primary_key=True)
    last_sent_at: so.Mapped[datetime | None]

"""Onward referrals and hand-overs to other services, and tasks with a due date (issue 16).

An :class:`OnwardReferral` is the service passing a person on (memory clinic, the council's
adult social care, falls service, equipment and telecare, children's services...) and tracking
it until the other service has accepted, done or declined it. A **hand-over** (``handover``)
is one that someone must confirm the other service took (hazard H-022: a child referred out of
scope must not be left with no one confirming 111, the GP or children's services took them).
A :class:`Task` is a piece of work with an owner and a due date (install grab rails; an action
from a case conference).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, in_list

ONWARD_SERVICES = ("memory_clinic", "adult_social_care", "falls_service", "equipment_telecare",
                   "childrens_services", "nhs_111", "gp_practice", "district_nursing",
                   "mental_health", "other")
ONWARD_STATUSES = ("sent", "accepted", "done", "declined")


class OnwardReferral(Base):
    """A referral out of the service, with its status and when it should be taken up by."""

    __tablename__ = "onward_referrals"
    __table_args__ = (
        sa.CheckConstraint(in_list("service", ONWARD_SERVICES), name="service"),
        sa.CheckConstraint(in_list("status", ONWARD_STATUSES), name="status"),
        sa.Index("ix_onward_referrals_open", "status", "due_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    referral_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("referrals.id"),
                                                          index=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"))
    service: so.Mapped[str] = so.mapped_column(sa.String(24))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="sent")
    #: A hand-over someone must confirm the other service took (H-022).
    handover: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    #: Who took it at the other end (name, role), given when it is accepted.
    contact: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    updated_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    #: When the overdue reminder went to the on-call coordinator (once).
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class Task(Base):
    """Work with an owner and a due date, shown on the owner's caseload until done."""

    __tablename__ = "tasks"
    __table_args__ = (sa.Index("ix_tasks_owner_open", "owner_user_id", "done_at"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("patients.id"),
                                                         index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    owner_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    owner_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    due: so.Mapped[date] = so.mapped_column(sa.Date)
    onward_referral_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("onward_referrals.id"))
    #: An action agreed at a case conference about this case.
    conference_case_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("conference_cases.id"), index=True)
    done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    done_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))

"""Visits: the unit the scheduler plans and a worker accepts, attends and completes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list, utcnow
from dispatch.models.vocab import (
    CATEGORIES,
    JEOPARDY_CAUSES,
    LINK_KINDS,
    LINK_WORKERS,
    VISIT_OUTCOMES,
)
from dispatch.states import VISIT_PINNED_STATUSES, VISIT_STAFFED_STATUSES, VISIT_STATUSES

if TYPE_CHECKING:
    from dispatch.models.referrals import Referral


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class Visit(Base):
    """One visit to a patient's home, from a referral or an approved care package.

    ``version`` is SQLAlchemy's optimistic-lock column: two coordinators (or a coordinator and
    the planner) changing the same visit cannot both win; the loser gets a StaleDataError.
    """

    __tablename__ = "visits"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", VISIT_STATUSES), name="status"),
        sa.CheckConstraint(in_list("category", CATEGORIES), name="category"),
        sa.CheckConstraint("earliest_start <= deadline", name="window"),
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="duration"),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
        sa.CheckConstraint("referral_id IS NOT NULL OR package_id IS NOT NULL", name="has_origin"),
        sa.CheckConstraint(
            f"status NOT IN ({_quoted(VISIT_STAFFED_STATUSES)}) OR assigned_staff_id IS NOT NULL",
            name="staffed_has_staff",
        ),
        sa.CheckConstraint(
            "status <> 'unassigned' OR assigned_staff_id IS NULL", name="unassigned_has_no_staff"
        ),
        sa.CheckConstraint(
            f"status NOT IN ({_quoted(VISIT_PINNED_STATUSES)}) OR pinned", name="committed_pinned"
        ),
        sa.CheckConstraint(
            f"outcome IS NULL OR {in_list('outcome', VISIT_OUTCOMES)}", name="outcome"
        ),
        sa.CheckConstraint(
            "status <> 'completed' OR outcome IS NOT NULL", name="completed_outcome"
        ),
        sa.CheckConstraint(
            f"jeopardy_cause IS NULL OR {in_list('jeopardy_cause', JEOPARDY_CAUSES)}",
            name="jeopardy_cause",
        ),
        sa.Index("ix_visits_open_deadline", "status", "deadline"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Short reference used in SMS ("ACCEPT 4821"); unique so a reply can never hit two visits.
    reference: so.Mapped[str] = so.mapped_column(sa.String(8), unique=True)
    referral_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("referrals.id"), index=True)
    package_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("care_packages.id"), index=True
    )
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    category: so.Mapped[str] = so.mapped_column(sa.String(16))
    skills: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    duration_minutes: so.Mapped[int] = so.mapped_column(sa.Integer)
    earliest_start: so.Mapped[datetime]
    deadline: so.Mapped[datetime]
    priority: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    #: The planner's reason for leaving the visit unassigned, or for planning it late (not
    #: triage's ``reason``); cleared when a plan places it in time.
    unassigned_reason: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    assigned_staff_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("staff.id"), index=True
    )
    shift_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("shifts.id"), index=True)
    planned_start: so.Mapped[datetime | None]
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="unassigned")
    pinned: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    excluded_staff_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)
    #: Workers who let an offer of this visit lapse unanswered: offered again only when no
    #: one else can do as well (a soft cost in the planner), unlike a decline, which excludes.
    unanswered_staff_ids: so.Mapped[list[int]] = so.mapped_column(sa.JSON, default=list)
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(24))
    # What the worker wrote and measured at the outcome (field staff page; issue 14).
    outcome_notes: so.Mapped[str | None] = so.mapped_column(sa.String(1000))
    outcome_observations: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    jeopardy_cause: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    jeopardy_since: so.Mapped[datetime | None]
    #: A coordinator's decision that this visit may start after its deadline, no later than
    #: ``late_allowed_until`` and only with ``late_allowed_staff_id`` (hazard H-006: the
    #: planner never plans a 2-hour visit late without a person deciding so).
    late_allowed_until: so.Mapped[datetime | None]
    late_allowed_staff_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff.id"))
    #: For a 2-hour visit the planner could not place: the coordinator's pinned visit whose
    #: worker could have reached it in time (:mod:`dispatch.planning.pin_costs`); the board
    #: names it. Not a foreign key: a hint, re-checked against the board's rows when shown.
    blocked_by_pin_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    offered_at: so.Mapped[datetime | None]
    accepted_at: so.Mapped[datetime | None]
    arrived_at: so.Mapped[datetime | None]
    completed_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = created_at_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    referral: so.Mapped[Referral | None] = so.relationship(back_populates="visits")


class VisitLink(Base):
    """Two visits planned together (issue 15): ``start(second) - start(first)`` within
    ``[min_gap_minutes, max_gap_minutes]``, served by ``workers`` (different, same or any).

    A double-handed visit (a hoist transfer: two staff at once) is two visits linked with gap
    0..0 and different workers; the planner serves both halves or neither (hazard H-100). A
    visit is in at most one link (the unique columns), as the scheduler's model requires.
    """

    __tablename__ = "visit_links"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", LINK_KINDS), name="kind"),
        sa.CheckConstraint(in_list("workers", LINK_WORKERS), name="workers"),
        sa.CheckConstraint("first_visit_id <> second_visit_id", name="two_visits"),
        sa.CheckConstraint("min_gap_minutes >= 0 AND min_gap_minutes <= max_gap_minutes",
                           name="gap"),
        sa.CheckConstraint(
            "kind <> 'double_handed' OR (min_gap_minutes = 0 AND max_gap_minutes = 0 "
            "AND workers = 'different')", name="double_handed"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    first_visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("visits.id"), unique=True)
    second_visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("visits.id"), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    min_gap_minutes: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    max_gap_minutes: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    workers: so.Mapped[str] = so.mapped_column(sa.String(12), default="different")
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = created_at_column()

    def partner_of(self, visit_id: int) -> int:
        """The other visit of the link."""
        return self.second_visit_id if visit_id == self.first_visit_id else self.first_visit_id


class SlotHold(Base):
    """A window offered to a caller, held for a few minutes (hazard H-140-C2).

    While ``expires_at`` is in the future, other visits' slot offers are worked out with
    ``visit_id`` already placed in it (on ``shift_id``), so two call handlers cannot offer,
    and book, the same worker's time. Booking the offered time ends the hold; an expired hold
    is ignored and deleted at the next offer for the visit.
    """

    __tablename__ = "slot_holds"
    __table_args__ = (
        sa.CheckConstraint("window_start <= window_end", name="window"),
        sa.Index("ix_slot_holds_network_expires", "network_id", "expires_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    visit_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("visits.id"), index=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"))
    shift_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("shifts.id"))
    window_start: so.Mapped[datetime]
    window_end: so.Mapped[datetime]
    planned_start: so.Mapped[datetime]
    #: A double-handed visit's second carer, held with the first (None: single-handed).
    partner_shift_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("shifts.id"))
    partner_planned_start: so.Mapped[datetime | None]
    held_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    expires_at: so.Mapped[datetime]
    created_at: so.Mapped[datetime] = created_at_column()

"""Case conferences of multidisciplinary groups (issue 16, item 6).

A group meets weekly or monthly to review its complex patients and every emergency
admission: the list builds itself from the group's patients sent to 999, admitted or
discharged since the last conference and from jeopardy breaches, and coordinators add their
own picks. Each case gets notes, a root-cause category for emergency admissions, and actions
(:class:`dispatch.models.onward.Task` rows with ``conference_case_id``) that stay on their
owner's home page until done.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, in_list

#: Why a patient is on the list.
CASE_REASONS = ("sent_to_999", "admitted", "discharged", "jeopardy", "coordinator_pick")
#: Root causes of an emergency admission (the NWL pilot's peer review of admissions).
ROOT_CAUSES = ("clinical_deterioration", "fall", "infection", "medication", "carer_breakdown",
               "care_plan_not_followed", "no_community_capacity", "delayed_response",
               "social_isolation", "other")


class CaseConference(Base):
    """One meeting of a group, with the cases since the one before."""

    __tablename__ = "case_conferences"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    group_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("md_groups.id"), index=True)
    held_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    since: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))

    cases: so.Mapped[list[ConferenceCase]] = so.relationship(
        back_populates="conference", order_by="ConferenceCase.id")


class ConferenceCase(Base):
    """A patient on a conference's list, why, and what the group made of it."""

    __tablename__ = "conference_cases"
    __table_args__ = (
        sa.UniqueConstraint("conference_id", "patient_id", name="uq_conference_cases_patient"),
        sa.CheckConstraint("root_cause IS NULL OR " + in_list("root_cause", ROOT_CAUSES),
                           name="root_cause"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    conference_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("case_conferences.id"),
                                                     index=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    reasons: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    notes: so.Mapped[str | None] = so.mapped_column(sa.Text)
    root_cause: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    picked_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))

    conference: so.Mapped[CaseConference] = so.relationship(back_populates="cases")

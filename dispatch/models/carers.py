"""Carers: people linked to the patients they look after, and carers' assessments (issue 16).

A carer is a person of their own (one carer may look after two people); each
:class:`CarerLink` says how they are related to one patient, whether they live together,
whether they are next of kin, and whether the service may contact them about visits (the
patient's consent, recorded by whom and when, as the care plan's consent is). A
:class:`CarerAssessment` is the carer's own assessment of needs: due, done, outcome.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, created_at_column


class Carer(Base):
    """A person who cares for one or more patients."""

    __tablename__ = "carers"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    email: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = created_at_column()

    links: so.Mapped[list[CarerLink]] = so.relationship(back_populates="carer",
                                                        order_by="CarerLink.id")


class CarerLink(Base):
    """A carer's link to one patient."""

    __tablename__ = "carer_links"
    __table_args__ = (
        sa.UniqueConstraint("carer_id", "patient_id", name="uq_carer_links_carer_patient"),
        sa.CheckConstraint(
            "NOT consent_to_contact OR "
            "(consent_recorded_by IS NOT NULL AND consent_recorded_at IS NOT NULL)",
            name="consent_recorded"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    carer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("carers.id"), index=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    relationship: so.Mapped[str] = so.mapped_column(sa.String(40))
    lives_with_patient: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    next_of_kin: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    #: The patient consented to the service contacting this carer about visits.
    consent_to_contact: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    consent_recorded_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    consent_recorded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    carer: so.Mapped[Carer] = so.relationship(back_populates="links")


class CarerAssessment(Base):
    """A carer's assessment of their own needs: when due, when done, what came of it."""

    __tablename__ = "carer_assessments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    carer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("carers.id"), index=True)
    due: so.Mapped[date] = so.mapped_column(sa.Date)
    done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    assessor: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    outcome: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = created_at_column()
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))

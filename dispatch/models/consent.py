"""Consent to share the care plan: every decision recorded (who, when, scope), none overwritten.

``Patient.consent_to_share`` (with who recorded it and when) is the current state the access
rules read; each change to it writes one :class:`ConsentRecord`, so the history survives a
withdrawal. A FHIR Consent in a referral message is not a patient decision here: it applies to
that referral's episode only (``Referral.episode_consent_by``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, in_list

CONSENT_DECISIONS = ("given", "withdrawn")
# What the consent covers: sharing the care plan for direct care (its current state is also
# kept on the patient, which the access rules read, H-009), contacting the patient's carer
# about visits, and texting the patient. The current state of the last two is the latest
# record of that scope.
CONSENT_SCOPES = ("care_plan_direct_care", "contact_carer", "text_patient")
CARE_PLAN_SCOPE = "care_plan_direct_care"
# Who made the decision: the patient, or someone with the legal authority to decide for them.
CONSENT_GIVERS = ("patient", "attorney", "deputy")


class ConsentRecord(Base):
    """One decision to give or withdraw consent, as recorded by a member of staff."""

    __tablename__ = "consent_records"
    __table_args__ = (
        sa.CheckConstraint(in_list("decision", CONSENT_DECISIONS), name="decision"),
        sa.CheckConstraint(in_list("scope", CONSENT_SCOPES), name="scope"),
        sa.CheckConstraint(in_list("given_by", CONSENT_GIVERS), name="given_by"),
        sa.Index("ix_consent_records_patient_at", "patient_id", "at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"))
    decision: so.Mapped[str] = so.mapped_column(sa.String(12))
    scope: so.Mapped[str] = so.mapped_column(sa.String(32))
    given_by: so.Mapped[str] = so.mapped_column(sa.String(12))
    recorded_by: so.Mapped[str] = so.mapped_column(sa.String(120))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

"""Patients and their versioned care plans."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list
from dispatch.models.vocab import RISK_TIERS
from dispatch.nhs_numbers import check_digit_sql, digits_only_sql, not_placeholder_sql

# "present": the patient has an NHS number; "not_known": registered without one (the caller
# did not know it) and flagged for tracing (hazard H-001).
NHS_NUMBER_STATUSES = ("present", "not_known")


class Patient(Base):
    """A person on the register. The NHS number is checked by Python and by the database."""

    __tablename__ = "patients"
    __table_args__ = (
        sa.CheckConstraint(digits_only_sql("nhs_number"), name="nhs_number_digits"),
        sa.CheckConstraint(check_digit_sql("nhs_number"), name="nhs_number_check_digit"),
        sa.CheckConstraint(not_placeholder_sql("nhs_number"), name="nhs_number_not_placeholder"),
        sa.CheckConstraint(in_list("risk_tier", RISK_TIERS), name="risk_tier"),
        sa.CheckConstraint(in_list("nhs_number_status", NHS_NUMBER_STATUSES),
                           name="nhs_number_status"),
        sa.CheckConstraint("(nhs_number IS NULL) = (nhs_number_status = 'not_known')",
                           name="nhs_number_status_matches"),
        sa.CheckConstraint("frailty IS NULL OR frailty BETWEEN 1 AND 9", name="frailty"),
        sa.CheckConstraint(
            "NOT consent_to_share OR "
            "(consent_recorded_by IS NOT NULL AND consent_recorded_at IS NOT NULL)",
            name="consent_recorded",
        ),
        sa.CheckConstraint("lat IS NULL OR lat BETWEEN -90 AND 90", name="lat"),
        sa.CheckConstraint("lon IS NULL OR lon BETWEEN -180 AND 180", name="lon"),
        sa.Index("ix_patients_match", "family_name", "date_of_birth", "postcode"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    nhs_number: so.Mapped[str | None] = so.mapped_column(sa.String(10), unique=True)
    nhs_number_status: so.Mapped[str] = so.mapped_column(
        sa.String(10), default="present", server_default="present")
    given_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    family_name: so.Mapped[str] = so.mapped_column(sa.String(80))
    date_of_birth: so.Mapped[date] = so.mapped_column(sa.Date)
    address: so.Mapped[str] = so.mapped_column(sa.String(200))
    postcode: so.Mapped[str] = so.mapped_column(sa.String(10))
    lat: so.Mapped[float | None] = so.mapped_column(sa.Float)
    lon: so.Mapped[float | None] = so.mapped_column(sa.Float)
    phone: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    gp_practice: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    named_lead: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    risk_tier: so.Mapped[str] = so.mapped_column(sa.String(10), default="very_low")
    frailty: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    conditions: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    access_notes: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    consent_to_share: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    consent_recorded_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    consent_recorded_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = created_at_column()

    care_plans: so.Mapped[list[CarePlan]] = so.relationship(
        back_populates="patient", order_by="CarePlan.version"
    )


#: The handler's search by name (``lower(family_name)``, often with the date of birth):
#: without it every name search read the whole register (a sequential scan of 9 million rows
#: at London scale; benchmarks/london_bench.py, issue 18 part 6).
sa.Index("ix_patients_family_name_lower_dob", sa.func.lower(Patient.family_name),
         Patient.date_of_birth)


class CarePlan(Base):
    """One version of a shared care plan. A change writes a new version; none is overwritten."""

    __tablename__ = "care_plans"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "version", name="uq_care_plans_patient_version"),
        sa.CheckConstraint("version >= 1", name="version"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    version: so.Mapped[int] = so.mapped_column(sa.Integer)
    summary: so.Mapped[str] = so.mapped_column(sa.Text)
    content: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    author: so.Mapped[str] = so.mapped_column(sa.String(120))
    created_at: so.Mapped[datetime] = created_at_column()

    patient: so.Mapped[Patient] = so.relationship(back_populates="care_plans")

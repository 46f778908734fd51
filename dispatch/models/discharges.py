"""Hospital discharges referred for a follow-up visit at home (issue 16, item 5)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, UTCDateTime, in_list

#: How soon after discharge the follow-up visit must start.
FOLLOW_UP_HOURS = (24, 48)


class HospitalDischarge(Base):
    """A discharge from hospital and the referral (and visit) made to follow it up."""

    __tablename__ = "hospital_discharges"
    __table_args__ = (
        sa.CheckConstraint(in_list("follow_up_hours", tuple(map(str, FOLLOW_UP_HOURS)))
                           .replace("'", ""), name="follow_up_hours"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    referral_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("referrals.id"), unique=True)
    hospital: so.Mapped[str] = so.mapped_column(sa.String(120))
    ward: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    discharged_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    follow_up_hours: so.Mapped[int] = so.mapped_column(sa.SmallInteger)
    summary: so.Mapped[str] = so.mapped_column(sa.String(2000))
    care_package_needed: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    #: The draft care package the discharge summary asked for (approved as any other).
    package_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("care_packages.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    created_by: so.Mapped[str] = so.mapped_column(sa.String(120))

"""When each care plan version is to be reviewed, and by whom (issue 16, item 2).

The versions themselves are :class:`dispatch.models.patients.CarePlan` rows (append-only, read
by the access rules of H-009); this table adds, per version written in the service, its
review date, the reviewer and the signed-in author. A version without a row here (loaded by
the demo, or written before this table) simply has no review date.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base

#: DNACPR and ReSPECT status, written in each version's content and shown as a warning banner.
RESUSCITATION_STATUSES = ("in_place", "not_in_place", "not_discussed")


class CarePlanReview(Base):
    """The review date and reviewer of one care plan version."""

    __tablename__ = "care_plan_reviews"

    care_plan_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("care_plans.id"),
                                                    primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    review_due: so.Mapped[date] = so.mapped_column(sa.Date)
    reviewer: so.Mapped[str] = so.mapped_column(sa.String(120))
    reviewer_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))
    author_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"))

"""Referrals: one call or electronic message about one patient, with its triage disposition."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base, created_at_column, in_list, utcnow
from dispatch.models.vocab import CATEGORIES, REFERRAL_SOURCES, RISK_TIERS
from dispatch.states import REFERRAL_STATUSES

if TYPE_CHECKING:
    from dispatch.models.visits import Visit


class Referral(Base):
    """A referral as logged by the single point of access.

    ``disposition`` keeps triage's whole answer (reasons, NEWS2 parts) so that what the call
    handler read back can be shown again; ``category``, ``priority`` and ``deadline`` are copied
    out of it as columns because reports and the planner filter on them.
    """

    __tablename__ = "referrals"
    __table_args__ = (
        sa.CheckConstraint(in_list("source", REFERRAL_SOURCES), name="source"),
        sa.CheckConstraint(in_list("status", REFERRAL_STATUSES), name="status"),
        sa.CheckConstraint(
            f"category IS NULL OR {in_list('category', CATEGORIES)}", name="category"
        ),
        sa.CheckConstraint(
            f"risk_tier IS NULL OR {in_list('risk_tier', RISK_TIERS)}", name="risk_tier"
        ),
        sa.CheckConstraint("frailty IS NULL OR frailty BETWEEN 1 AND 9", name="frailty"),
        sa.CheckConstraint("priority IS NULL OR priority BETWEEN 1 AND 5", name="priority"),
        sa.CheckConstraint("news2_total IS NULL OR news2_total BETWEEN 0 AND 20", name="news2"),
        sa.CheckConstraint(
            "deadline IS NULL OR deadline >= received_at", name="deadline_after_received"
        ),
        sa.CheckConstraint(
            "status IN ('received', 'cancelled', 'rejected') OR category IS NOT NULL",
            name="triaged_has_category",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    patient_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("patients.id"), index=True)
    network_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("networks.id"), index=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(24))
    referrer_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    referrer_role: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    referrer_organisation: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    received_at: so.Mapped[datetime] = so.mapped_column(index=True)
    needs: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    red_flags: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    # Each red-flag question asked: code -> "yes" | "no" | "not_asked" (issue 13, H-003).
    red_flag_answers: so.Mapped[dict[str, str]] = so.mapped_column(sa.JSON, default=dict)
    observations: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON, default=dict)
    frailty: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    risk_tier: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    pathways_disposition: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    pathways_timeframe_minutes: so.Mapped[int | None]
    notes: so.Mapped[str | None] = so.mapped_column(sa.Text)
    disposition: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON)
    category: so.Mapped[str | None] = so.mapped_column(sa.String(16), index=True)
    priority: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    news2_total: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)
    deadline: so.Mapped[datetime | None]
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="received", index=True)
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(100), unique=True)
    request_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(100), unique=True)
    created_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # A FHIR Consent in the referral message: it covers this referral's episode only and never
    # changes the patient's recorded consent (dispatch.services.care_plan_access).
    episode_consent_by: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    episode_consent_at: so.Mapped[datetime | None]
    created_at: so.Mapped[datetime] = created_at_column()
    updated_at: so.Mapped[datetime] = so.mapped_column(default=utcnow, onupdate=utcnow)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    visits: so.Mapped[list[Visit]] = so.relationship(back_populates="referral")

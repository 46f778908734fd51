"""Care plans that live: authored and versioned in the service, reviewed on time (issue 16).

A new version is written for every change (none is overwritten): goals, needs, what to do in a
crisis, DNACPR and ReSPECT status, next of kin, a summary, and when and by whom it is to be
reviewed. Reading versions goes through the H-009 rules (:mod:`care_plan_access`): consent,
episode consent or an audited emergency override, so authoring here changes nothing about who
may read. A plan whose latest version is past its review date is flagged to the patient's
care coordinator and marked on the 111 view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.models import CareCoordination, CarePlan, CarePlanReview, Patient
from dispatch.models.care_plans import RESUSCITATION_STATUSES
from dispatch.services import audit
from dispatch.services import care_plan_access as access
from triage.timing import local

MAX_REVIEW_DAYS = 366  # a plan is reviewed at least yearly
MAX_ITEMS = 20
MAX_ITEM_TEXT = 200
RESUSCITATION_TEXT = {
    "dnacpr": "DNACPR decision in place: do not attempt cardiopulmonary resuscitation",
    "respect": "ReSPECT form in place: follow the recommended emergency care and treatment",
}


@dataclass(frozen=True)
class NewVersion:
    """What an author writes; every field of a version (a change is a whole new version)."""

    summary: str
    goals: tuple[str, ...]
    needs: tuple[str, ...]
    crisis_plan: str
    dnacpr: str
    respect: str
    review_due: date
    reviewer: str
    next_of_kin: str = ""
    reviewer_user_id: int | None = None


@dataclass(frozen=True)
class PlanVersion:
    """One version with its review terms (None for versions written before them)."""

    plan: CarePlan
    review: CarePlanReview | None

    def past_review(self, now: datetime) -> bool:
        return self.review is not None and self.review.review_due < local(now).date()


@dataclass(frozen=True)
class VersionView:
    """One version as the API shows it at ``now``: review terms, whether past review, and
    DNACPR/ReSPECT in words for the warning banner."""

    version: int
    summary: str
    content: dict[str, Any]
    author: str
    created_at: datetime
    review_due: date | None
    reviewer: str | None
    past_review: bool
    warnings: list[str]

    @classmethod
    def of(cls, v: PlanVersion, now: datetime) -> VersionView:
        return cls(version=v.plan.version, summary=v.plan.summary, content=v.plan.content,
                   author=v.plan.author, created_at=v.plan.created_at,
                   review_due=v.review.review_due if v.review else None,
                   reviewer=v.review.reviewer if v.review else None,
                   past_review=v.past_review(now), warnings=warnings_of(v.plan.content))


@dataclass(frozen=True)
class VersionsView:
    """Every version of a patient's plan and the basis on which they were read (H-009)."""

    patient_id: int
    access_basis: str
    versions: list[VersionView]


def _check(new: NewVersion, now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    today = local(now).date()
    if not new.summary.strip():
        errors["summary"] = ["write a one-line summary of the plan"]
    if not new.crisis_plan.strip():
        errors["crisis_plan"] = ["say what to do in a crisis"]
    for name in ("dnacpr", "respect"):
        if getattr(new, name) not in RESUSCITATION_STATUSES:
            errors[name] = [f"one of {', '.join(RESUSCITATION_STATUSES)}"]
    if new.review_due <= today:
        errors["review_due"] = ["must be after today"]
    elif (new.review_due - today).days > MAX_REVIEW_DAYS:
        errors["review_due"] = [f"review at least yearly (within {MAX_REVIEW_DAYS} days)"]
    if not new.reviewer.strip():
        errors["reviewer"] = ["say who reviews the plan"]
    for name in ("goals", "needs"):
        items = getattr(new, name)
        if len(items) > MAX_ITEMS or any(len(i) > MAX_ITEM_TEXT for i in items):
            errors[name] = [f"at most {MAX_ITEMS} items of {MAX_ITEM_TEXT} characters"]
    if errors:
        raise InvalidInput("invalid care plan", errors=errors)


def author_version(
    session: so.Session, *, patient: Patient, new: NewVersion, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> PlanVersion:
    """Write the next version of the patient's plan with its review terms; audited.

    :raise InvalidInput: a missing summary, crisis plan or reviewer, an unknown DNACPR or
        ReSPECT status, or a review date not in the next year.
    """
    _check(new, now)
    latest = session.scalar(sa.select(sa.func.max(CarePlan.version))
                            .where(CarePlan.patient_id == patient.id))
    content: dict[str, Any] = {
        "goals": [g.strip() for g in new.goals if g.strip()],
        "needs": [n.strip() for n in new.needs if n.strip()],
        "crisis_plan": new.crisis_plan.strip(),
        "next_of_kin": new.next_of_kin.strip(),
        "dnacpr": new.dnacpr,
        "respect": new.respect,
    }
    plan = CarePlan(patient_id=patient.id, version=(latest or 0) + 1,
                    summary=new.summary.strip(), content=content,
                    author=actor.username[:120], created_at=now)
    session.add(plan)
    session.flush()
    review = CarePlanReview(care_plan_id=plan.id, patient_id=patient.id,
                            review_due=new.review_due, reviewer=new.reviewer.strip()[:120],
                            reviewer_user_id=new.reviewer_user_id, author_user_id=actor.user_id)
    session.add(review)
    session.flush()
    audit.record(session, actor=actor, action="author_care_plan", now=now,
                 patient_id=patient.id, entity=("care_plan", plan.id), request_id=request_id,
                 purpose="write a new version of the shared care plan",
                 details={"version": plan.version, "review_due": new.review_due.isoformat()})
    return PlanVersion(plan, review)


def review_of(session: so.Session, plan: CarePlan | None) -> CarePlanReview | None:
    """The review terms of a version (None for none, or for versions written without them)."""
    return session.get(CarePlanReview, plan.id) if plan is not None else None


def read_versions(
    session: so.Session, *, patient: Patient, actor: Actor, now: datetime, purpose: str,
    override: access.Override | None = None, request_id: str | None = None,
) -> tuple[access.CarePlanRead, list[PlanVersion]]:
    """Every version, newest first, under the H-009 rules; the read is audited.

    :raise Forbidden: as :func:`care_plan_access.read_care_plan` (refusal audited first).
    """
    read = access.read_care_plan(session, actor=actor, patient=patient, now=now,
                                 purpose=purpose, override=override, request_id=request_id)
    plans = list(session.scalars(sa.select(CarePlan).where(CarePlan.patient_id == patient.id)
                                 .order_by(CarePlan.version.desc())))
    audit.record(session, actor=actor, action="view_care_plan_history", now=now,
                 patient_id=patient.id, entity=("patient", patient.id), purpose=purpose[:300],
                 request_id=request_id, details={"versions": len(plans), "basis": read.basis})
    return read, [PlanVersion(p, review_of(session, p)) for p in plans]


def warnings_of(content: dict[str, Any]) -> list[str]:
    """DNACPR and ReSPECT in words, for the warning banner (older plans said ``dnacpr: true``)."""
    found = []
    for key, text in RESUSCITATION_TEXT.items():
        value = content.get(key)
        if value is True or value == "in_place":
            found.append(text)
    return found


@dataclass(frozen=True)
class OverdueReview:
    """A patient whose latest plan version is past its review date (identifiers: audit)."""

    patient_id: int
    version: int
    review_due: date
    reviewer: str
    coordinator_user_id: int | None


def overdue_reviews(
    session: so.Session, *, now: datetime, coordinator_user_id: int | None = None,
) -> list[OverdueReview]:
    """Latest versions past their review date, most overdue first; one coordinator's with
    ``coordinator_user_id``."""
    latest = (sa.select(CarePlan.patient_id, sa.func.max(CarePlan.version).label("version"))
              .group_by(CarePlan.patient_id).subquery())
    stmt = (sa.select(CarePlan.patient_id, CarePlan.version, CarePlanReview.review_due,
                      CarePlanReview.reviewer, CareCoordination.coordinator_user_id)
            .join(latest, sa.and_(latest.c.patient_id == CarePlan.patient_id,
                                  latest.c.version == CarePlan.version))
            .join(CarePlanReview, CarePlanReview.care_plan_id == CarePlan.id)
            .outerjoin(CareCoordination, CareCoordination.patient_id == CarePlan.patient_id)
            .where(CarePlanReview.review_due < local(now).date())
            .order_by(CarePlanReview.review_due, CarePlan.patient_id))
    if coordinator_user_id is not None:
        stmt = stmt.where(CareCoordination.coordinator_user_id == coordinator_user_id)
    return [OverdueReview(*row) for row in session.execute(stmt)]


def read_overdue_reviews(
    session: so.Session, *, actor: Actor, now: datetime, request_id: str | None = None,
    coordinator_user_id: int | None = None,
) -> list[OverdueReview]:
    """:func:`overdue_reviews`; each patient listed is audited (``view_overdue_review``)."""
    rows = overdue_reviews(session, now=now, coordinator_user_id=coordinator_user_id)
    for row in rows:
        audit.record(session, actor=actor, action="view_overdue_review", now=now,
                     patient_id=row.patient_id, entity=("patient", row.patient_id),
                     purpose="care plan reviews past due", request_id=request_id)
    return rows

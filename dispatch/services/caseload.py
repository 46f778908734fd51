"""A care coordinator's caseload with what needs doing for each patient (issue 16).

One read model for the coordinator's page: their patients, highest risk first, each with the
things that fall to the coordinator (a care plan past its review date, no plan at all). Every
patient listed is audited, since the list names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.models import Patient
from dispatch.services import care_plans, carers, onward, practices
from triage.timing import local


@dataclass(frozen=True)
class CaseloadRow:
    """One patient on the caseload and the flags the coordinator must act on."""

    patient: Patient
    practice: str | None
    plan_version: int | None
    review_due: date | None
    past_review: bool
    flags: tuple[str, ...] = field(default=())


#: The most patients one page lists (with their flags); a real caseload is well under it.
PAGE_LIMIT = 200


def caseload_rows(
    session: so.Session, *, actor: Actor, coordinator_user_id: int, now: datetime,
    request_id: str | None, limit: int = PAGE_LIMIT,
) -> list[CaseloadRow]:
    """The coordinator's patients (highest risk first, at most ``limit``) with their flags,
    patients with flags first; audited."""
    patients = practices.caseload(session, coordinator_user_id=coordinator_user_id,
                                  limit=limit)
    practices.audit_caseload_read(session, actor=actor, patients=patients, now=now,
                                  request_id=request_id)
    rows = []
    for patient in patients:
        latest = patient.care_plans[-1] if patient.care_plans else None
        review = care_plans.review_of(session, latest)
        version = care_plans.PlanVersion(latest, review) if latest is not None else None
        past = bool(version and version.past_review(now))
        flags: list[str] = []
        if latest is None:
            flags.append("No care plan")
        elif past and review is not None:
            flags.append(f"Care plan review overdue (due {review.review_due:%-d %b %Y})")
        for row in onward.list_onward(session, patient_id=patient.id, open_only=True):
            if onward.is_overdue(row, now):
                flags.append(f"Referral to {onward.SERVICE_NAMES[row.service]} overdue")
        today = local(now).date()
        for task in onward.list_tasks(session, patient_id=patient.id, open_only=True):
            if task.due < today:
                flags.append(f"Task overdue: {task.title}")
        for carer, assessment in carers.overdue_assessments(session, patient_id=patient.id,
                                                            now=now):
            flags.append(f"Carer's assessment overdue: {carer.name} "
                         f"(due {assessment.due:%-d %b %Y})")
        practice = practices.practice_of(session, patient.id)
        rows.append(CaseloadRow(patient, practice.name if practice else patient.gp_practice,
                                latest.version if latest else None,
                                review.review_due if review else None, past, tuple(flags)))
    return sorted(rows, key=lambda r: not r.flags)

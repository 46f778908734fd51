"""Field staff's view of their visits: today's list and one visit with what they may read.

The services behind "My visits today" and the visit page the SMS links to
(``dispatch/web/visits.py``). A worker sees only visits assigned to them (anything else is
"not found", so a guessed reference reveals nothing); coordinators and admins may open any.
Every read is audited here, and the care plan is read only where
:mod:`dispatch.services.care_plan_access` allows. Like every service these flush and never
commit: the page commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import NotFound
from dispatch.models import CarePlan, Patient, Referral, Staff, Visit
from dispatch.permissions import FIELD_STAFF
from dispatch.services import audit, pairs, visit_actions
from dispatch.services import care_plan_access as access
from dispatch.services.board import day_bounds

__all__ = ["MyVisits", "VisitRead", "my_visits", "read_visit", "visit_for", "worker_of"]


@dataclass(frozen=True)
class VisitRead:
    """One visit as its page shows it: the patient, the referral, the care plan where the rules
    allow it (else why not: a :func:`care_plan_access.refusal` code), and whether it is the
    reader's own visit."""

    visit: Visit
    patient: Patient
    referral: Referral | None
    plan: CarePlan | None
    plan_refused: str | None
    mine: bool
    partner: pairs.Partner | None = None


@dataclass(frozen=True)
class MyVisits:
    """The worker's visits today (each with the patient's postcode) and, by visit id, the
    partner of each double-handed one."""

    rows: list[tuple[Visit, str]]
    partners: dict[int, pairs.Partner | None]


def visit_for(session: so.Session, reference: str, *, actor: Actor) -> Visit:
    """The visit with this SMS reference, if ``actor`` may see it.

    :raise NotFound: no such visit, or a field worker's visit that is not theirs.
    """
    visit = visit_actions.find_visit(session, reference.strip()[:8])
    if visit is None or (actor.role == FIELD_STAFF and (
            actor.staff_id is None or visit.assigned_staff_id != actor.staff_id)):
        raise NotFound(f"visit {reference[:8]} not found")
    return visit


def worker_of(session: so.Session, actor: Actor) -> Staff:
    """The signed-in worker's staff row. :raise NotFound: the user is not linked to one."""
    staff = session.get(Staff, actor.staff_id) if actor.staff_id else None
    if staff is None:
        raise NotFound("your sign-in is not linked to a member of staff")
    return staff


def my_visits(
    session: so.Session, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> MyVisits:
    """The worker's visits today (open ones, and those completed today), each with the
    patient's postcode: open first, soonest first, with the partner of a double-handed visit.
    The list is audited (``list_my_visits``)."""
    start, end = day_bounds(now.astimezone(LONDON).date())
    rows: list[tuple[Visit, str]] = []
    if actor.staff_id is not None:
        stmt = sa.select(Visit, Patient.postcode).join(
            Patient, Patient.id == Visit.patient_id).where(
            Visit.assigned_staff_id == actor.staff_id,
            sa.or_(Visit.status.in_(states.VISIT_ACTIVE_STATUSES),
                   sa.and_(Visit.completed_at >= start, Visit.completed_at < end)))
        rows = [(v, pc) for v, pc in session.execute(stmt).all()]
    rows.sort(key=lambda r: (r[0].status == "completed", r[0].planned_start or r[0].deadline))
    partners = {v.id: pairs.partner(session, v) for v, _ in rows}
    audit.record(session, actor=actor, action="list_my_visits", now=now, purpose=purpose,
                 request_id=request_id, details={"visits": len(rows)})
    return MyVisits(rows, partners)


def read_visit(
    session: so.Session, visit: Visit, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> VisitRead:
    """``visit`` with its patient, referral and care plan; the view is audited
    (``view_visit``), and so is the care plan read (``view_care_plan``) when it is allowed."""
    patient = session.get(Patient, visit.patient_id)
    assert patient is not None
    audit.record(session, actor=actor, action="view_visit", now=now, patient_id=patient.id,
                 entity=("visit", visit.id), purpose=purpose, request_id=request_id,
                 details={"reference": visit.reference, "status": visit.status})
    referral = session.get(Referral, visit.referral_id) if visit.referral_id else None
    refused = access.refusal(session, actor=actor, patient=patient, now=now, referral=referral)
    plan = None
    if refused is None:
        plan = access.read_care_plan(session, actor=actor, patient=patient, now=now,
                                     purpose=purpose, referral=referral,
                                     request_id=request_id).plan
    mine = actor.staff_id is not None and visit.assigned_staff_id == actor.staff_id
    return VisitRead(visit, patient, referral, plan, refused, mine, pairs.partner(session, visit))

"""Who may read a patient's care plan, on what basis, and the audit of every read (H-009).

The rules, in the order they are checked:

- **Field staff** read a care plan only for a patient they have a visit with: assigned to
  them and open, or closed (done or cancelled) in the last :data:`CARE_RELATIONSHIP_DAYS`
  days. A field-staff account with no staff link has no visits, so it reads nothing.
- The plan is shared with the patient's **recorded consent**, or, for reads made for one
  referral (its visit page, or the API with ``referral_id``), with a FHIR Consent that came
  with that referral (**episode consent**: that episode only, never the patient's record).
- Without consent, **call handlers and coordinators** (no one else) may override in an
  emergency, giving a purpose from :data:`OVERRIDE_PURPOSES` and a free-text explanation.
  Overrides are audited as ``care_plan_override``, highlighted on the audit page and listed
  in the Caldicott guardian's daily report (:func:`overrides_on`).

Every read and every refusal is staged as an audit event in the caller's transaction; a
refusal raises after staging its event, so the view commits before answering 403/422.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import Forbidden, InvalidInput
from dispatch.models import AuditEvent, CarePlan, Patient, Referral, Visit
from dispatch.permissions import CALL_HANDLER, COORDINATOR, FIELD_STAFF
from dispatch.services import audit
from dispatch.services.patients import get_patient
from dispatch.services.referrals import get_referral
from dispatch.states import VISIT_OPEN_STATUSES

CARE_RELATIONSHIP_DAYS = 7  # a worker may need the plan again for a follow-up call
OVERRIDE_ROLES = frozenset({CALL_HANDLER, COORDINATOR})
OVERRIDE_PURPOSES: dict[str, str] = {
    "emergency_care": "Emergency care - patient unable to consent",
    "safeguarding": "Safeguarding",
    "risk_to_life": "Immediate risk to life",
}
MIN_OVERRIDE_TEXT = 10  # characters: an explanation, not "x"
MAX_OVERRIDE_TEXT = 250  # purpose label + text fit the audit purpose column (300)
OVERRIDE_ACTION = "care_plan_override"
REFERRAL_OPEN_STATUSES = ("received", "triaged", "scheduled", "in_progress", "escalated")


@dataclass(frozen=True)
class Override:
    """An emergency override: a purpose from the list and the reader's own explanation."""

    purpose: str
    text: str

    @property
    def label(self) -> str:
        return OVERRIDE_PURPOSES[self.purpose]

    def audit_purpose(self) -> str:
        return f"{self.label}: {self.text}"[:300]


@dataclass(frozen=True)
class CarePlanRead:
    """The latest plan (None if the patient has none) and the basis it was shared on:
    ``consent``, ``episode_consent`` or ``emergency_override``."""

    plan: CarePlan | None
    basis: str
    override: Override | None = None


def parse_override(purpose: str | None, text: str | None) -> Override | None:
    """The override asked for, or None when neither part is given.

    Raises
    ------
    InvalidInput
        One part without the other, a purpose not on the list, or too short an explanation.
    """
    purpose = (purpose or "").strip()
    text = " ".join((text or "").split())
    if not purpose and not text:
        return None
    errors: dict[str, list[str]] = {}
    if purpose not in OVERRIDE_PURPOSES:
        errors["override_purpose"] = [f"choose one of: {', '.join(OVERRIDE_PURPOSES)}"]
    if len(text) < MIN_OVERRIDE_TEXT:
        errors["override_reason"] = [
            f"explain the emergency in at least {MIN_OVERRIDE_TEXT} characters"]
    elif len(text) > MAX_OVERRIDE_TEXT:
        errors["override_reason"] = [f"keep it under {MAX_OVERRIDE_TEXT} characters"]
    if errors:
        raise InvalidInput("invalid emergency override", errors=errors)
    return Override(purpose, text)


def may_override(actor: Actor) -> bool:
    """Whether this role may read a care plan without consent in an emergency."""
    return actor.role in OVERRIDE_ROLES


def has_care_relationship(
    session: so.Session, *, staff_id: int | None, patient_id: int, now: datetime
) -> bool:
    """Whether the worker has a visit with the patient: open, or closed in the last 7 days."""
    if staff_id is None:
        return False
    since = now - timedelta(days=CARE_RELATIONSHIP_DAYS)
    closed_at = sa.func.coalesce(Visit.completed_at, Visit.updated_at)
    stmt = sa.select(Visit.id).where(
        Visit.patient_id == patient_id, Visit.assigned_staff_id == staff_id,
        sa.or_(Visit.status.in_(VISIT_OPEN_STATUSES), closed_at >= since)).limit(1)
    return session.scalar(stmt) is not None


def episode_consent(referral: Referral | None, *, patient_id: int, now: datetime) -> bool:
    """Whether a FHIR Consent that came with ``referral`` covers a read now: the referral is
    this patient's, and its episode is open or its last visit closed in the last 7 days."""
    if referral is None or referral.patient_id != patient_id or not referral.episode_consent_by:
        return False
    if referral.status in REFERRAL_OPEN_STATUSES:
        return True
    since = now - timedelta(days=CARE_RELATIONSHIP_DAYS)
    return any((v.completed_at or v.updated_at) >= since for v in referral.visits)


def refusal(
    session: so.Session, *, actor: Actor, patient: Patient, now: datetime,
    override: Override | None = None, referral: Referral | None = None,
) -> str | None:
    """Why :func:`read_care_plan` would refuse (``no_care_relationship``, ``no_consent``,
    ``override_not_allowed``), or None: lets a page decide what to offer without a read."""
    found = _refusal(session, actor=actor, patient=patient, now=now, override=override,
                     referral=referral)
    return found[0] if found else None


def read_care_plan(
    session: so.Session, *, actor: Actor, patient: Patient, now: datetime, purpose: str,
    override: Override | None = None, referral: Referral | None = None,
    request_id: str | None = None,
) -> CarePlanRead:
    """The patient's latest care plan if this actor may read it now; the read is audited.

    Raises
    ------
    Forbidden
        No care relationship (field staff), no consent and no override, or an override by a
        role that may not override. The refusal is staged in the audit trail first.
    """
    refusal = _refusal(session, actor=actor, patient=patient, now=now, override=override,
                       referral=referral)
    if refusal is not None:
        code, message = refusal
        details: dict[str, Any] = {"refused": code}
        if override is not None:
            details.update(override_purpose=override.purpose, override_text=override.text)
        audit.record(session, actor=actor, action="care_plan_refused", now=now,
                     patient_id=patient.id, entity=("patient", patient.id),
                     purpose=(override.audit_purpose() if override else purpose)[:300],
                     request_id=request_id, details=details)
        session.flush()
        raise Forbidden(message)
    basis = _basis(patient, referral, now)
    plan = session.scalar(sa.select(CarePlan).where(CarePlan.patient_id == patient.id)
                          .order_by(CarePlan.version.desc()).limit(1))
    entity = ("care_plan", plan.id if plan else None)
    if basis is None:
        assert override is not None  # _refusal let it through
        audit.record(session, actor=actor, action=OVERRIDE_ACTION, now=now,
                     patient_id=patient.id, entity=entity, purpose=override.audit_purpose(),
                     request_id=request_id,
                     details={"basis": "emergency_override", "override_purpose": override.purpose,
                              "override_text": override.text})
        return CarePlanRead(plan, "emergency_override", override)
    details = {"basis": basis}
    if referral is not None:
        details["referral_id"] = referral.id
    audit.record(session, actor=actor, action="view_care_plan", now=now, patient_id=patient.id,
                 entity=entity, purpose=purpose[:300], request_id=request_id, details=details)
    return CarePlanRead(plan, basis)


@dataclass(frozen=True)
class CarePlanAnswer:
    """The answer to a request to read a care plan: the read, or why it was refused. Either
    way the decision is staged in the audit trail, so the caller commits once and then
    answers (a refusal must stay in the trail)."""

    patient: Patient
    read: CarePlanRead | None
    refused: Forbidden | None = None


@dataclass(frozen=True)
class CarePlanView:
    """The current plan as ``GET /api/patients/{id}/care-plan`` shows it (empty content when
    the patient has none) and the basis it was shared on."""

    patient_id: int
    version: int | None
    summary: str | None
    content: dict[str, Any]
    author: str | None
    created_at: datetime | None
    access_basis: str
    override_purpose: str | None

    @classmethod
    def of(cls, patient_id: int, read: CarePlanRead) -> CarePlanView:
        plan = read.plan
        return cls(patient_id=patient_id, version=plan.version if plan else None,
                   summary=plan.summary if plan else None,
                   content=plan.content if plan else {},
                   author=plan.author if plan else None,
                   created_at=plan.created_at if plan else None, access_basis=read.basis,
                   override_purpose=read.override.purpose if read.override else None)


def answer_request(
    session: so.Session, *, actor: Actor, patient_id: int, now: datetime, purpose: str,
    override_purpose: str | None = None, override_reason: str | None = None,
    referral_id: int | None = None, request_id: str | None = None,
) -> CarePlanAnswer:
    """Read patient ``patient_id``'s care plan for a request (``GET .../care-plan``): the
    read or the refusal, both audited (:func:`read_care_plan`).

    Raises
    ------
    NotFound
        No such patient or referral (nothing staged).
    InvalidInput
        An override purpose without a reason, or the other way round (nothing staged).
    """
    patient = get_patient(session, patient_id)
    override = parse_override(override_purpose, override_reason)
    referral = get_referral(session, referral_id) if referral_id else None
    try:
        read = read_care_plan(session, actor=actor, patient=patient, now=now, purpose=purpose,
                              override=override, referral=referral, request_id=request_id)
    except Forbidden as refused:
        return CarePlanAnswer(patient, None, refused)
    return CarePlanAnswer(patient, read)


def _basis(patient: Patient, referral: Referral | None, now: datetime) -> str | None:
    if patient.consent_to_share:
        return "consent"
    if episode_consent(referral, patient_id=patient.id, now=now):
        return "episode_consent"
    return None


def _refusal(
    session: so.Session, *, actor: Actor, patient: Patient, now: datetime,
    override: Override | None, referral: Referral | None,
) -> tuple[str, str] | None:
    """Why this read is refused (a code for the audit and a message), or None."""
    if actor.role == FIELD_STAFF and not has_care_relationship(
            session, staff_id=actor.staff_id, patient_id=patient.id, now=now):
        return ("no_care_relationship",
                "you can read the care plan only of a patient you have a visit with (open, or "
                f"closed in the last {CARE_RELATIONSHIP_DAYS} days)")
    if _basis(patient, referral, now) is not None:
        return None
    if override is None:
        return ("no_consent", "no recorded consent to share this care plan; a call handler or "
                "coordinator may use the emergency override with a purpose and a reason")
    if not may_override(actor):
        return ("override_not_allowed", "only call handlers and coordinators may use the "
                "emergency override")
    return None


# --- the Caldicott guardian's daily report ---------------------------------------------------


@dataclass(frozen=True)
class OverrideEntry:
    """One emergency read without consent: who, which patient, why, when."""

    at: datetime
    username: str | None
    role: str | None
    patient_id: int | None
    purpose: str
    purpose_label: str
    text: str
    request_id: str | None


def overrides_on(session: so.Session, *, day: date) -> list[OverrideEntry]:
    """Every emergency override on a London calendar day, oldest first."""
    start = datetime.combine(day, time.min, tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON)
    stmt = sa.select(AuditEvent).where(
        AuditEvent.action == OVERRIDE_ACTION, AuditEvent.at >= start, AuditEvent.at < end
    ).order_by(AuditEvent.at, AuditEvent.id)
    entries = []
    for event in session.scalars(stmt):
        details = event.details or {}
        code = str(details.get("override_purpose", ""))
        entries.append(OverrideEntry(
            at=event.at, username=event.username, role=event.role, patient_id=event.patient_id,
            purpose=code, purpose_label=OVERRIDE_PURPOSES.get(code, code),
            text=str(details.get("override_text", "")), request_id=event.request_id))
    return entries


def view_overrides(
    session: so.Session, *, day: date, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> list[OverrideEntry]:
    """:func:`overrides_on`, the report itself audited (``view_override_report``)."""
    entries = overrides_on(session, day=day)
    audit.record(session, actor=actor, action="view_override_report", now=now, purpose=purpose,
                 request_id=request_id,
                 details={"date": day.isoformat(), "overrides": len(entries)})
    return entries

"""Recording and withdrawing consent to share the care plan; episode consent from FHIR.

A patient's consent is a decision by the patient (or their attorney or deputy) recorded by a
member of staff: who recorded it, when, and its scope are kept on the patient (the current
state the access rules read) and in a :class:`ConsentRecord` per decision (the history), and
each change is audited. A FHIR Consent in a referral message is different: it covers that
referral's episode only (``Referral.episode_consent_by``) and never changes the patient's
recorded consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import Conflict, Forbidden, InvalidInput
from dispatch.models import ConsentRecord, Patient, Referral
from dispatch.models.consent import CARE_PLAN_SCOPE, CONSENT_GIVERS, CONSENT_SCOPES
from dispatch.services import audit
from dispatch.services.patients import get_patient

SCOPE_LABELS = {
    "care_plan_direct_care": "Share the shared care plan with the staff giving urgent "
                             "community care (call handlers, coordinators, visiting staff)",
    "contact_carer": "Contact their carer about visits (a text with the arrival window, no "
                     "clinical detail)",
    "text_patient": "Send them texts about their visits (arrival times, no clinical detail)",
}
SCOPE_TITLES = {
    "care_plan_direct_care": "Consent to share the care plan",
    "contact_carer": "Consent to contact the carer",
    "text_patient": "Consent to text the patient",
}
GIVER_LABELS = {
    "patient": "The patient",
    "attorney": "Their attorney (lasting power of attorney for health and welfare)",
    "deputy": "Their court-appointed deputy",
}
MAX_RECORDED_BY = 120  # Patient.consent_recorded_by


class ConsentChange(Protocol):
    """:func:`record_consent` or :func:`withdraw_consent`."""

    def __call__(self, session: so.Session, *, patient: Patient, actor: Actor, given_by: str,
                 now: datetime, scope: str = ..., request_id: str | None = None
                 ) -> ConsentRecord: ...


def _check(scope: str, given_by: str) -> None:
    errors: dict[str, list[str]] = {}
    if scope not in CONSENT_SCOPES:
        errors["scope"] = [f"must be one of: {', '.join(CONSENT_SCOPES)}"]
    if given_by not in CONSENT_GIVERS:
        errors["given_by"] = ["say who made the decision"]
    if errors:
        raise InvalidInput("invalid consent", errors=errors)


def record_consent(
    session: so.Session, *, patient: Patient, actor: Actor, given_by: str, now: datetime,
    scope: str = "care_plan_direct_care", request_id: str | None = None,
) -> ConsentRecord:
    """Record consent to share the care plan (who recorded it, when, scope); audited.

    Raises
    ------
    InvalidInput
        Unknown scope or giver.
    Conflict
        Consent is already recorded (withdraw it first to record a new decision).
    """
    _check(scope, given_by)
    if scope != CARE_PLAN_SCOPE:
        given = current(session, patient_id=patient.id, scope=scope)
        if given is not None:
            raise Conflict(f"consent is already recorded (by {given.recorded_by})")
        return _decision(session, patient=patient, actor=actor, decision="given", scope=scope,
                         given_by=given_by, now=now, request_id=request_id)
    if patient.consent_to_share:
        raise Conflict(f"consent is already recorded (by {patient.consent_recorded_by})")
    patient.consent_to_share = True
    patient.consent_recorded_by = actor.username[:MAX_RECORDED_BY]
    patient.consent_recorded_at = now
    return _decision(session, patient=patient, actor=actor, decision="given", scope=scope,
                     given_by=given_by, now=now, request_id=request_id)


def withdraw_consent(
    session: so.Session, *, patient: Patient, actor: Actor, given_by: str, now: datetime,
    scope: str = "care_plan_direct_care", request_id: str | None = None,
) -> ConsentRecord:
    """Withdraw consent: the care plan is no longer shared (overrides aside); audited.

    Raises
    ------
    InvalidInput
        Unknown scope or giver.
    Conflict
        No consent is recorded.
    """
    _check(scope, given_by)
    if scope != CARE_PLAN_SCOPE:
        if current(session, patient_id=patient.id, scope=scope) is None:
            raise Conflict("no consent of this scope is recorded for this patient")
        return _decision(session, patient=patient, actor=actor, decision="withdrawn",
                         scope=scope, given_by=given_by, now=now, request_id=request_id)
    if not patient.consent_to_share:
        raise Conflict("no consent is recorded for this patient")
    patient.consent_to_share = False
    patient.consent_recorded_by = None
    patient.consent_recorded_at = None
    return _decision(session, patient=patient, actor=actor, decision="withdrawn", scope=scope,
                     given_by=given_by, now=now, request_id=request_id)


def _decision(
    session: so.Session, *, patient: Patient, actor: Actor, decision: str, scope: str,
    given_by: str, now: datetime, request_id: str | None,
) -> ConsentRecord:
    record = ConsentRecord(patient_id=patient.id, decision=decision, scope=scope,
                           given_by=given_by, recorded_by=actor.username[:MAX_RECORDED_BY],
                           user_id=actor.user_id, at=now)
    session.add(record)
    action = "record_consent" if decision == "given" else "withdraw_consent"
    audit.record(session, actor=actor, action=action, now=now, patient_id=patient.id,
                 entity=("patient", patient.id), request_id=request_id,
                 purpose=f"{SCOPE_TITLES[scope].lower()} {decision}",
                 details={"scope": scope, "given_by": given_by, "source": "page"})
    session.flush()
    return record


def current(session: so.Session, *, patient_id: int, scope: str) -> ConsentRecord | None:
    """The decision in force for ``scope`` if it is a consent given (the latest record of the
    scope says ``given``); None if never given or withdrawn since. For the care plan the
    patient's own columns are what the access rules read (H-009); they agree with this."""
    latest = session.scalar(sa.select(ConsentRecord).where(
        ConsentRecord.patient_id == patient_id, ConsentRecord.scope == scope,
    ).order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc()).limit(1))
    return latest if latest is not None and latest.decision == "given" else None


@dataclass(frozen=True)
class ScopeState:
    """Whether consent of one scope is in force, who recorded it and when."""

    scope: str
    given: bool
    recorded_by: str | None
    recorded_at: datetime | None


def scope_states(session: so.Session, *, patient: Patient) -> list[ScopeState]:
    """Every scope's consent now, in ``CONSENT_SCOPES`` order."""
    states = [ScopeState(CARE_PLAN_SCOPE, bool(patient.consent_to_share),
                         patient.consent_recorded_by, patient.consent_recorded_at)]
    for scope in CONSENT_SCOPES:
        if scope == CARE_PLAN_SCOPE:
            continue
        given = current(session, patient_id=patient.id, scope=scope)
        states.append(ScopeState(scope, given is not None,
                                 given.recorded_by if given else None,
                                 given.at if given else None))
    return states


def require(session: so.Session, *, patient_id: int, scope: str) -> ConsentRecord:
    """The consent in force that allows contacting the carer or texting the patient.

    :raise Forbidden: the patient has not consented to it (or withdrew).
    """
    given = current(session, patient_id=patient_id, scope=scope)
    if given is None:
        raise Forbidden(f"the patient has not consented: {SCOPE_LABELS[scope].lower()}")
    return given


def view_consent(
    session: so.Session, patient_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> Patient:
    """The patient whose consent is shown, the look-up audited (``view_consent``).

    :raise NotFound: no such patient.
    """
    patient = get_patient(session, patient_id)
    audit.record(session, actor=actor, action="view_consent", now=now, patient_id=patient.id,
                 entity=("patient", patient.id), purpose=purpose, request_id=request_id)
    return patient


@dataclass(frozen=True)
class ConsentState:
    """The patient's consent now (every scope) and every decision, newest first."""

    patient_id: int
    consent_to_share: bool
    recorded_by: str | None
    recorded_at: datetime | None
    scopes: list[ScopeState]
    history: list[ConsentRecord]


def state_of(session: so.Session, patient: Patient) -> ConsentState:
    """:class:`ConsentState` of ``patient`` (no audit: the caller's read or change is)."""
    return ConsentState(patient_id=patient.id, consent_to_share=bool(patient.consent_to_share),
                        recorded_by=patient.consent_recorded_by,
                        recorded_at=patient.consent_recorded_at,
                        scopes=scope_states(session, patient=patient),
                        history=history(session, patient_id=patient.id))


def history(session: so.Session, *, patient_id: int) -> list[ConsentRecord]:
    """Every recorded decision for the patient, newest first."""
    stmt = sa.select(ConsentRecord).where(ConsentRecord.patient_id == patient_id)
    return list(session.scalars(stmt.order_by(ConsentRecord.at.desc(), ConsentRecord.id.desc())))


def record_episode_consent(
    session: so.Session, *, referral: Referral, recorded_by: str, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> None:
    """A FHIR Consent that came with a referral: it covers this referral's episode only.

    The patient's recorded consent is left exactly as it is (a message from another system is
    not the patient's decision recorded by us); audited.
    """
    referral.episode_consent_by = recorded_by[:MAX_RECORDED_BY]
    referral.episode_consent_at = now
    audit.record(session, actor=actor, action="record_episode_consent", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 request_id=request_id,
                 purpose="consent to share the care plan for this referral, from a FHIR Consent",
                 details={"recorded_by": referral.episode_consent_by, "source": "fhir"})
    session.flush()

"""FHIR intake services: make (or cancel) a referral from a message, and read its Task.

Like every service here they flush and never commit; the view commits once. The referral
itself is made by ``dispatch.services.referrals.create_referral`` (patient matching, triage,
visit, idempotency, audit); this module adds what only a FHIR message carries: the
referrer's ``occurrencePeriod.end``, a Consent (for this episode only), and cancellation by
ServiceRequest status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.config import LONDON
from dispatch.errors import Conflict, InvalidInput
from dispatch.fhir.bundle import read_bundle
from dispatch.fhir.errors import BundleInvalid, MessageConflict, TaskNotFound
from dispatch.fhir.outcome import issues_from_field_errors, origin_of
from dispatch.fhir.referral_map import to_referral_message
from dispatch.fhir.task import TaskFacts
from dispatch.fhir.types import Issue, ReferralMessage
from dispatch.models import Network, Patient, Referral, Staff, Visit
from dispatch.schemas.referrals import ReferralCreateSchema
from dispatch.services import audit, discharges, packages, visit_actions
from dispatch.services.consent import record_episode_consent
from dispatch.services.patient_matching import PatientMismatch
from dispatch.services.referral_commands import NewReferral
from dispatch.services.referrals import VISIT_CATEGORIES, create_referral
from dispatch.states import VISIT_OPEN_STATUSES

_TASK_ID = re.compile(r"^[0-9]{1,9}$")  # referral ids; longer would overflow an INTEGER


@dataclass(frozen=True)
class IntakeResult:
    """The referral a message made, found again (a redelivery) or cancelled."""

    referral: Referral
    outcome: str  # "created", "replayed" or "cancelled"
    header_id: str
    task: TaskFacts


def process_message(
    session: so.Session, *, body: bytes | str, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> IntakeResult:
    """Read a BaRS message Bundle and act on it.

    Raises
    ------
    BundleUnreadable, BundleInvalid
        The message cannot be read, or is not a valid referral (every issue listed).
    MessageConflict
        The ServiceRequest was already received under another message, the message id was
        reused for a different body, or the referral is too far along to cancel.
    """
    message = to_referral_message(read_bundle(body))
    if message.cancels:
        referral = cancel_referral(session, message=message, actor=actor, now=now,
                                   request_id=request_id)
        return IntakeResult(referral, "cancelled", message.header_id,
                            facts_for(session, referral))
    if message.discharge is not None:
        return _discharge(session, message, actor, now, request_id)
    return _create(session, message, actor, now, request_id)


def _discharge(
    session: so.Session, message: ReferralMessage, actor: Actor, now: datetime,
    request_id: str | None,
) -> IntakeResult:
    """A hospital discharge: the same service as ``POST /api/discharges`` (H-205-C2), its
    patient matched or registered from the message; a redelivery makes nothing new."""
    facts = message.discharge
    assert facts is not None
    _refuse_duplicate(session, message)
    try:
        result = discharges.refer_discharge(
            session, patient_details=message.payload.get("patient") or {},
            hospital=facts.hospital, discharged_at=facts.discharged_at,
            follow_up_hours=facts.follow_up_hours, summary=facts.summary,
            needs=message.payload.get("needs") or (), actor=actor, now=now,
            request_id=request_id, idempotency_key=message.idempotency_key,
            external_id=message.external_id, care_package_needed=bool(facts.care_lines),
            package_lines=[packages.LineRequest(tariff_code=code, units_per_week=per_week,
                                                weeks=weeks)
                           for code, per_week, weeks in facts.care_lines])
    except PatientMismatch as exc:
        raise MessageConflict([_mismatch_issue(exc, message)]) from exc
    except InvalidInput as exc:
        issues = issues_from_field_errors(exc.errors, message.origins)
        raise BundleInvalid(issues or [Issue("invalid", exc.message, "Bundle")]) from exc
    except Conflict as exc:
        raise MessageConflict([Issue(
            "conflict", "this message id (Bundle.identifier, else MessageHeader.id) was already "
            "used for a different message; give each message its own id", "Bundle.identifier")]
        ) from exc
    referral = session.get_one(Referral, result.discharge.referral_id)
    if not result.created:
        return IntakeResult(referral, "replayed", message.header_id, facts_for(session, referral))
    if message.consent is not None:  # this episode only, as for any referral message (H-009)
        record_episode_consent(session, referral=referral,
                               recorded_by=message.consent.recorded_by, actor=actor, now=now,
                               request_id=request_id)
    audit.record(session, actor=actor, action="fhir_referral_received", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose="hospital discharge by FHIR message", request_id=request_id,
                 details={"message_id": message.header_id,
                          "hospital_discharge_id": result.discharge.id})
    return IntakeResult(referral, "created", message.header_id, facts_for(session, referral))


def _create(
    session: so.Session, message: ReferralMessage, actor: Actor, now: datetime,
    request_id: str | None,
) -> IntakeResult:
    _refuse_duplicate(session, message)
    command = _validated(message)
    try:
        result = create_referral(
            session, command=command, actor=actor, now=now, request_id=request_id,
            idempotency_key=message.idempotency_key, external_id=message.external_id,
        )
    except PatientMismatch as exc:
        raise MessageConflict([_mismatch_issue(exc, message)]) from exc
    except InvalidInput as exc:
        issues = issues_from_field_errors(exc.errors, message.origins)
        raise BundleInvalid(issues or [Issue("invalid", exc.message, "Bundle")]) from exc
    except Conflict as exc:
        text = exc.message
        if "different request body" in text:
            text = ("this message id (Bundle.identifier, else MessageHeader.id) was already used "
                    "for a different message; give each message its own id")
        raise MessageConflict([Issue("conflict", text, "Bundle.identifier")]) from exc
    except sa.exc.IntegrityError as exc:  # a concurrent delivery of the same ServiceRequest
        raise MessageConflict([Issue("duplicate", "this ServiceRequest is being processed by "
                                     "another message; retry", message.service_request_path)]
                              ) from exc
    referral = result.referral
    if not result.created:
        return IntakeResult(referral, "replayed", message.header_id, facts_for(session, referral))
    tightened = tighten_deadline(session, referral=referral, end=message.occurrence_end)
    if message.consent is not None:
        # This episode only: the patient's recorded consent is never changed by a message.
        record_episode_consent(session, referral=referral,
                               recorded_by=message.consent.recorded_by, actor=actor, now=now,
                               request_id=request_id)
    audit.record(session, actor=actor, action="fhir_referral_received", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose="referral by FHIR message", request_id=request_id,
                 details={"message_id": message.header_id, "deadline_tightened": tightened})
    return IntakeResult(referral, "created", message.header_id, facts_for(session, referral))


def _refuse_duplicate(session: so.Session, message: ReferralMessage) -> None:
    existing = _by_external_id(session, message.external_id)
    if existing is not None and existing.idempotency_key != message.idempotency_key:
        raise MessageConflict([Issue(
            "duplicate", f"ServiceRequest {message.external_id!r} was already received (Task "
            f"{existing.id}); to withdraw it send status revoked", message.service_request_path)])


def _by_external_id(session: so.Session, external_id: str) -> Referral | None:
    return session.scalar(sa.select(Referral).where(Referral.external_id == external_id))


def _mismatch_issue(exc: PatientMismatch, message: ReferralMessage) -> Issue:
    """Hazard H-001: name the differing Patient elements, never the registered values."""
    fields = ", ".join(exc.fields) or "none (several registered patients are alike)"
    return Issue(
        "business-rule",
        f"patient_mismatch: the NHS number belongs to a registered patient whose details "
        f"differ in: {fields}. The referral was not made: check the Patient's name, birth date "
        f"and address with the patient and send the message again corrected, or phone the "
        f"rapid response team", origin_of("patient", message.origins))


def _validated(message: ReferralMessage) -> NewReferral:
    """The payload through the same schema as ``POST /api/referrals`` (one set of rules)."""
    try:
        loaded: NewReferral = ReferralCreateSchema().load(message.payload)
    except ValidationError as exc:
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise BundleInvalid(issues_from_field_errors(errors, message.origins)) from exc
    return loaded


def tighten_deadline(session: so.Session, *, referral: Referral, end: datetime | None) -> bool:
    """Bring the referral's and its open visits' deadline forward to ``end`` if it is earlier.

    The referrer's ``occurrencePeriod.end`` is when care should start by their assessment; we
    never answer later than that. Returns whether anything changed. Only referrals that get
    a visit are touched (a 999 or signposted referral has nothing to schedule).
    """
    if end is None or referral.deadline is None or referral.category not in VISIT_CATEGORIES:
        return False
    if end >= referral.deadline:
        return False
    ours = referral.deadline
    referral.deadline = end
    for visit in referral.visits:
        if visit.status in VISIT_OPEN_STATUSES:
            visit.deadline = end
            visit.earliest_start = min(visit.earliest_start, end)
    sentence = (f"The referrer asked for care to start by {_clock(end)} "
                f"(ServiceRequest.occurrencePeriod.end), earlier than our deadline of "
                f"{_clock(ours)}; the deadline was brought forward.")
    disposition = dict(referral.disposition or {})
    disposition["deadline"] = end.astimezone(LONDON).isoformat()
    disposition["reasons"] = [*disposition.get("reasons", []), sentence]
    referral.disposition = disposition
    session.flush()
    return True


def _clock(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%H:%M on %d %b %Y}"


def cancel_referral(
    session: so.Session, *, message: ReferralMessage, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> Referral:
    """Cancel the referral a revoked (or entered-in-error) ServiceRequest withdraws.

    Cancelling twice is harmless (the second returns the cancelled referral).

    Raises
    ------
    BundleInvalid
        No referral was made from that ServiceRequest.
    MessageConflict
        The referral or its visit is too far along (someone is on site, or it is finished).
    """
    where = message.service_request_path
    referral = _by_external_id(session, message.external_id)
    if referral is None:
        raise BundleInvalid([Issue("not-found", f"no referral was made from ServiceRequest "
                                   f"{message.external_id!r}", f"{where}.identifier")])
    if referral.status == "cancelled":
        return referral
    open_visits = [v for v in referral.visits if v.status in VISIT_OPEN_STATUSES]
    stuck = [v.status for v in open_visits if not states.can_move("visit", v.status, "cancelled")]
    if stuck or not states.can_move("referral", referral.status, "cancelled"):
        state = f"visit {stuck[0]}" if stuck else f"referral {referral.status}"
        raise MessageConflict([Issue("conflict", f"referral {referral.id} can no longer be "
                                     f"cancelled ({state}); phone the rapid response team",
                                     f"{where}.status")])
    for visit in open_visits:
        # Through the state machine's action, so a worker who had the offer is told not to go.
        visit_actions.cancel(session, visit=visit, reason="referrer revoked the ServiceRequest",
                             now=now, actor=actor)
    states.move("referral", referral, "cancelled")
    referral.updated_at = now
    audit.record(session, actor=actor, action="cancel_referral", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose="the referrer withdrew the referral", request_id=request_id,
                 details={"service_request_status": message.service_request_status})
    session.flush()
    return referral


def read_task(
    session: so.Session, *, task_id: str, actor: Actor, now: datetime,
    request_id: str | None = None,
) -> TaskFacts:
    """What the Task with this id (a referral id) says now; the read is audited.

    Raises
    ------
    TaskNotFound
        The id is not a number or no such referral exists.
    """
    referral = session.get(Referral, int(task_id)) if _TASK_ID.match(task_id) else None
    if referral is None:
        raise TaskNotFound([Issue("not-found", f"no Task {task_id!r}", "Task.id")])
    audit.record(session, actor=actor, action="read_task", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose="referral progress (FHIR Task)", request_id=request_id)
    return facts_for(session, referral)


def facts_for(session: so.Session, referral: Referral) -> TaskFacts:
    """The Task facts of ``referral`` (its latest visit that is not cancelled, its network)."""
    visits = sorted((v for v in referral.visits if v.status != "cancelled"), key=lambda v: v.id)
    visit: Visit | None = visits[-1] if visits else None
    network = _owner_network(session, referral, visit)
    patient = session.get_one(Patient, referral.patient_id)
    disposition = referral.disposition or {}
    modified = [m for m in (referral.updated_at, visit.updated_at if visit else None) if m]
    return TaskFacts(
        referral_id=referral.id, referral_status=referral.status,
        visit_status=visit.status if visit else None,
        visit_outcome=visit.outcome if visit else None,
        category=referral.category, label=disposition.get("label"),
        reasons=tuple(disposition.get("reasons", ())), deadline=referral.deadline,
        authored_on=referral.created_at, last_modified=max(modified, default=referral.created_at),
        arrived_at=visit.arrived_at if visit else None,
        completed_at=visit.completed_at if visit else None,
        nhs_number=patient.nhs_number, external_id=referral.external_id,
        owner_name=network.name if network else None, owner_code=network.code if network else None,
    )


def _owner_network(session: so.Session, referral: Referral, visit: Visit | None) -> Network | None:
    network_id = referral.network_id
    if visit is not None and visit.assigned_staff_id is not None:
        staff = session.get(Staff, visit.assigned_staff_id)
        network_id = (staff.network_id if staff else None) or network_id
    return session.get(Network, network_id) if network_id is not None else None

"""Logging a referral: match the patient, triage, store the disposition and its visit, audit.

All in the caller's one transaction: either the referral, its visit and its audit event are all
written or none is.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Network, Patient, Referral, Visit
from dispatch.services import audit, onward, pairs, strata
from dispatch.services.cover import covering_network
from dispatch.services.duplicates import (
    PossibleDuplicate,
    ReferralRead,
    possible_duplicates,
    with_duplicates,
)
from dispatch.services.patient_matching import PatientMatch, match_or_create
from dispatch.services.references import new_reference
from dispatch.services.referral_commands import NewReferral, request_hash
from rosters.roles import split_by_role
from triage import TriageInput, TriageInputError, disposition_to_dict, triage
from triage.errors import IncompleteScreeningError
from triage.needs import NEEDS, two_staff_skills
from triage.screening import check_screening
from triage.types import Disposition

VISIT_CATEGORIES = ("urgent_2h", "response_24h", "planned")
# Where each category leaves the referral after triage.
STATUS_AFTER_TRIAGE = {
    "emergency_999": "sent_to_999", "signpost": "signposted", "out_of_scope": "out_of_scope",
}
# Clocks on other systems drift; a call "received" further in the future than this is an error.
MAX_CLOCK_SKEW = timedelta(minutes=5)


__all__ = ["NewReferral", "ReferralRead", "ReferralResult", "create_referral", "get_referral",
           "read_referral", "request_hash"]


@dataclass(frozen=True)
class ReferralResult:
    """The referral logged (or found again), and the patient's other open referrals."""

    referral: Referral
    created: bool
    possible_duplicates: tuple[PossibleDuplicate, ...] = ()

    @property
    def read(self) -> ReferralRead:
        """The referral as the API shows it."""
        return ReferralRead(self.referral, self.possible_duplicates)


def create_referral(
    session: so.Session,
    *,
    command: NewReferral,
    actor: Actor,
    now: datetime,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    external_id: str | None = None,
    rng: random.Random | None = None,
) -> ReferralResult:
    """Log the referral ``command`` asks for (built by the API schema, FHIR, the form, the demo).

    The same ``idempotency_key`` with the same body returns the first referral; with another body
    it is a :class:`Conflict`. Raises :class:`InvalidInput` naming every bad field, and
    :class:`~dispatch.services.patient_matching.PatientMismatch` when the patient details
    disagree with the registered patient they would match (hazard H-001). The patient's other
    open referrals come back as ``possible_duplicates``; the referral is logged anyway (a
    second call can mean the patient got worse, hazard H-002).
    """
    fingerprint = command.fingerprint()
    if idempotency_key:
        existing = _by_key(session, idempotency_key, fingerprint)
        if existing is not None:
            return ReferralResult(existing, created=False, possible_duplicates=tuple(
                possible_duplicates(session, existing.patient_id, exclude=existing.id)))
    match = match_or_create(
        session, patient_id=command.patient_id, details=command.patient,
        confirm_patient_id=command.confirm_patient_id, new_patient=command.new_patient, now=now,
    )
    patient = match.patient
    duplicates = tuple(possible_duplicates(session, patient.id)) if not match.created else ()
    inp = _triage_input(command, patient)
    if inp.received_at > now + MAX_CLOCK_SKEW:
        raise InvalidInput(
            "invalid referral",
            errors={
                "received_at": [f"is in the future (now is {now.isoformat(timespec='seconds')})"]
            },
        )
    try:
        check_screening(inp)  # issue 13, H-003: nothing to triage is refused, not signposted
    except IncompleteScreeningError as exc:
        raise InvalidInput(exc.message, errors=exc.errors) from exc
    disposition = triage(inp, now=now)
    referral = _new_referral(command, patient, inp, disposition, actor, now)
    referral.idempotency_key = idempotency_key
    referral.request_hash = fingerprint
    referral.external_id = external_id
    referral.red_flag_answers = dict(inp.red_flag_answers)
    session.add(referral)
    _flush_or_conflict(session, idempotency_key)
    states.move("referral", referral, "triaged")
    if disposition.category in VISIT_CATEGORIES:
        rng = rng or random.Random()
        two_staff = two_staff_skills(inp.needs)
        # One visit per role the needs call for (a visit is made by one person); a visit
        # that brings a two-person need (a hoist transfer) gets a second worker's half.
        for skills in split_by_role(frozenset(disposition.skills)):
            visit = _new_visit(session, referral, patient, disposition, now, rng,
                               skills=sorted(skills))
            session.add(visit)
            session.flush()
            if skills & two_staff:
                pairs.make_double_handed(session, visit=visit, now=now, actor=actor, rng=rng,
                                         reason="triage: " + ", ".join(sorted(
                                             c for c in inp.needs if NEEDS[c].staff == 2)))
        states.move("referral", referral, "scheduled")
    else:
        states.move("referral", referral, STATUS_AFTER_TRIAGE[disposition.category])
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create_referral",
        now=now,
        patient_id=patient.id,
        entity=("referral", referral.id),
        purpose="referral for urgent community care",
        request_id=request_id,
        details={"category": disposition.category, "patient_matched_by": match.matched_by,
                 "possible_duplicates": [d.referral_id for d in duplicates]},
    )
    _audit_match(session, match, referral, actor, now, request_id)
    if disposition.category == "out_of_scope":
        # H-022: someone must confirm 111, the GP or children's services took the person.
        onward.open_out_of_scope_handover(session, referral=referral, patient=patient,
                                          actor=actor, now=now, request_id=request_id)
    return ReferralResult(referral, created=True, possible_duplicates=duplicates)


def _audit_match(
    session: so.Session, match: PatientMatch, referral: Referral, actor: Actor, now: datetime,
    request_id: str | None,
) -> None:
    """Who confirmed a patient whose details differed, and which fields (never the values)."""
    if match.matched_by == "confirmed":
        audit.record(session, actor=actor, action="confirm_patient_mismatch", now=now,
                     patient_id=match.patient.id, entity=("referral", referral.id),
                     purpose="caller confirmed the registered patient despite differing details",
                     request_id=request_id, details={"fields": list(match.differing)})
    elif match.matched_by == "traced":
        audit.record(session, actor=actor, action="record_nhs_number", now=now,
                     patient_id=match.patient.id, entity=("patient", match.patient.id),
                     purpose="caller confirmed a patient registered without an NHS number",
                     request_id=request_id, details={"fields_differing": list(match.differing)})
    elif match.created and match.patient.nhs_number is None:
        audit.record(session, actor=actor, action="register_without_nhs_number", now=now,
                     patient_id=match.patient.id, entity=("patient", match.patient.id),
                     purpose="NHS number not known: flagged for tracing", request_id=request_id)


def _by_key(session: so.Session, key: str, fingerprint: str) -> Referral | None:
    existing = session.scalar(sa.select(Referral).where(Referral.idempotency_key == key))
    if existing is not None and existing.request_hash != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request body")
    return existing


def earlier_submission(session: so.Session, key: str | None,
                       command: NewReferral) -> Referral | None:
    """The referral an earlier submission of the same form (``key``) made from the same
    ``command``, if any: after a double submit's Conflict, the first one's result."""
    if key is None:
        return None
    earlier = session.scalar(sa.select(Referral).where(Referral.idempotency_key == key))
    if earlier is not None and earlier.request_hash == command.fingerprint():
        return earlier
    return None


def _flush_or_conflict(session: so.Session, key: str | None) -> None:
    """Flush; a concurrent request that took the same key first turns into a Conflict (409)
    for the caller to retry, which then finds the winner's referral."""
    try:
        with session.begin_nested():
            session.flush()
    except sa.exc.IntegrityError as exc:
        if key and "idempotency_key" in str(exc.orig).lower():
            raise Conflict("a request with this Idempotency-Key is being processed") from exc
        raise


def _triage_input(command: NewReferral, patient: Patient) -> TriageInput:
    """The command's parsed triage input, with the register's frailty and tier where not given
    and the patient's age on the day of the call (NEWS2 is for adults only)."""
    inp = command.triage
    try:
        return dataclasses.replace(
            inp,
            frailty=inp.frailty if inp.frailty is not None else patient.frailty,
            risk_tier=inp.risk_tier if inp.risk_tier is not None else patient.risk_tier,
            # Triage works out the age on the London day of the call (children's rules;
            # NEWS2 is not scored under 16), from the registered date of birth.
            date_of_birth=patient.date_of_birth,
        )
    except TriageInputError as exc:
        raise InvalidInput("invalid referral", errors=exc.errors) from exc


def _new_referral(
    command: NewReferral,
    patient: Patient,
    inp: TriageInput,
    d: Disposition,
    actor: Actor,
    now: datetime,
) -> Referral:
    referrer = command.referrer
    return Referral(
        patient_id=patient.id,
        network_id=patient.network_id,
        source=command.source,
        referrer_name=referrer.name or actor.username,
        referrer_role=referrer.role,
        referrer_organisation=referrer.organisation,
        received_at=inp.received_at,
        needs=list(inp.needs),
        red_flags=list(inp.red_flags),
        observations=dict(command.triage_data.get("observations") or {}),
        frailty=inp.frailty,
        risk_tier=inp.risk_tier,
        pathways_disposition=inp.pathways_disposition,
        pathways_timeframe_minutes=inp.pathways_timeframe_minutes,
        notes=command.notes,
        disposition=disposition_to_dict(d),
        category=d.category,
        priority=d.priority,
        news2_total=d.news2.total if d.news2 and d.news2.parts else None,
        deadline=d.deadline,
        status="received",
        created_by=actor.username,
        created_at=now,
        updated_at=now,
    )


def _new_visit(
    session: so.Session,
    referral: Referral,
    patient: Patient,
    d: Disposition,
    now: datetime,
    rng: random.Random,
    *,
    skills: list[str],
) -> Visit:
    assert d.deadline is not None  # only visit categories reach here
    earliest = d.earliest_start or referral.received_at
    network_id = covering_network(session, patient, skills, start=min(earliest, d.deadline),
                                  deadline=d.deadline)
    cover = None
    if network_id != patient.network_id:
        home = session.get(Network, patient.network_id) if patient.network_id else None
        needed = ", ".join(sorted(skills))
        cover = f"Cross-cover: no one in {home.code if home else 'the home team'} has {needed}"
    return Visit(
        reference=new_reference(session, rng),
        referral_id=referral.id,
        patient_id=patient.id,
        network_id=network_id,
        category=d.category,
        skills=skills,
        duration_minutes=max(d.visit_duration_minutes, 15),
        earliest_start=min(earliest, d.deadline),
        deadline=d.deadline,
        priority=_visit_priority(session, patient, d),
        reason=visit_reason(referral.needs or [], d.reasons, cover=cover),
        status="unassigned",
        created_at=now,
        updated_at=now,
    )


def _visit_priority(session: so.Session, patient: Patient, d: Disposition) -> int:
    """The disposition's priority; a planned visit's by the patient's risk tier under their
    network's rules (issue 17: planned visits by priority of tier)."""
    if d.category != PLANNED_CATEGORY:
        return d.priority
    rules = strata.rules_for(session, patient.network_id)
    return rules.planned_priority.get(patient.risk_tier, d.priority)


PLANNED_CATEGORY = "planned"

#: The longest reason a visit carries (``visits.reason``); the board and texts show it whole.
VISIT_REASON_LENGTH = 300


def visit_reason(needs: Sequence[str], reasons: Sequence[str], *, cover: str | None = None,
                 limit: int = VISIT_REASON_LENGTH) -> str:
    """A short summary of why the visit is needed, for the board: the needs in words ("Fall
    without serious injury; Sudden confusion or delirium"), after any cross-cover note; with no
    needs, triage's first finding after its summary. Whole items only, never a sentence cut
    off: what does not fit is counted ("and 2 more")."""
    items = [*([cover] if cover else []), *(NEEDS[n].label for n in needs if n in NEEDS)]
    if not items:
        items = list(reasons[1:2] or reasons[:1])
    shown: list[str] = []
    for n, item in enumerate(items):
        more = len(items) - n - 1
        tail = f"; and {more} more" if more else ""
        if len("; ".join([*shown, item])) + len(tail) > limit:
            if not shown:  # one item longer than the limit: its first sentence(s) that fit
                shown.append(_sentences(item, limit - len(tail)))
                continue
            return "; ".join(shown) + f"; and {len(items) - n} more"
        shown.append(item)
    return "; ".join(shown)


def _sentences(text: str, limit: int) -> str:
    """As many whole sentences of ``text`` as fit in ``limit`` characters (else its words)."""
    kept = ""
    for sentence in text.replace(": ", ". ").split(". "):
        candidate = f"{kept} {sentence.rstrip('.')}." if kept else f"{sentence.rstrip('.')}."
        if len(candidate) > limit:
            break
        kept = candidate
    if kept:
        return kept
    words = text[: max(limit - 1, 0)].rsplit(" ", 1)[0]
    return words + "…"


def get_referral(session: so.Session, referral_id: int) -> Referral:
    """:raise NotFound: no such referral."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"referral {referral_id} not found")
    return referral


def read_referral(
    session: so.Session, referral_id: int, *, actor: Actor, now: datetime, purpose: str,
    request_id: str | None = None,
) -> ReferralRead:
    """One referral with the patient's other open referrals; the read is audited.

    :raise NotFound: no such referral.
    """
    referral = get_referral(session, referral_id)
    audit.record(session, actor=actor, action="view_referral", now=now,
                 patient_id=referral.patient_id, entity=("referral", referral.id),
                 purpose=purpose, request_id=request_id)
    return with_duplicates(session, referral)

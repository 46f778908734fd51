"""Logging a referral: match the patient, triage, store the disposition and its visit, audit.

All in the caller's one transaction: either the referral, its visit and its audit event are all
written or none is.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import states
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import Network, Patient, Referral, Visit
from dispatch.services import audit
from dispatch.services.cover import covering_network
from dispatch.services.patients import match_or_create
from rosters.roles import split_by_role
from triage import TriageInput, TriageInputError, disposition_to_dict, parse_triage_input, triage
from triage.errors import IncompleteScreeningError
from triage.screening import check_screening
from triage.types import Disposition

VISIT_CATEGORIES = ("urgent_2h", "response_24h", "planned")
# Where each category leaves the referral after triage.
STATUS_AFTER_TRIAGE = {
    "emergency_999": "sent_to_999", "signpost": "signposted", "out_of_scope": "out_of_scope",
}
REFERENCE_DIGITS = 4  # "ACCEPT 4821": short enough to type on a phone
REFERENCE_TRIES = 30
# Clocks on other systems drift; a call "received" further in the future than this is an error.
MAX_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ReferralResult:
    referral: Referral
    created: bool


def request_hash(payload: dict[str, Any]) -> str:
    """A stable fingerprint of a request body, to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_referral(
    session: so.Session,
    *,
    payload: dict[str, Any],
    actor: Actor,
    now: datetime,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    external_id: str | None = None,
    rng: random.Random | None = None,
) -> ReferralResult:
    """Log a referral from a validated payload (see ``dispatch.api.schemas.ReferralCreateSchema``).

    The same ``idempotency_key`` with the same body returns the first referral; with another body
    it is a :class:`Conflict`. Raises :class:`InvalidInput` naming every bad field.
    """
    fingerprint = request_hash(payload)
    if idempotency_key:
        existing = _by_key(session, idempotency_key, fingerprint)
        if existing is not None:
            return ReferralResult(existing, created=False)
    match = match_or_create(
        session, patient_id=payload.get("patient_id"), details=payload.get("patient"), now=now
    )
    patient = match.patient
    inp = _triage_input(payload, patient)
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
    referral = _new_referral(payload, patient, inp, disposition, actor, now)
    referral.idempotency_key = idempotency_key
    referral.request_hash = fingerprint
    referral.external_id = external_id
    referral.red_flag_answers = dict(inp.red_flag_answers)
    session.add(referral)
    _flush_or_conflict(session, idempotency_key)
    states.move("referral", referral, "triaged")
    if disposition.category in VISIT_CATEGORIES:
        # One visit per role the needs call for (a visit is made by one person).
        for skills in split_by_role(frozenset(disposition.skills)):
            session.add(
                _new_visit(
                    session,
                    referral,
                    patient,
                    disposition,
                    now,
                    rng or random.Random(),
                    skills=sorted(skills),
                )
            )
            session.flush()
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
        details={"category": disposition.category, "patient_matched_by": match.matched_by},
    )
    return ReferralResult(referral, created=True)


def _by_key(session: so.Session, key: str, fingerprint: str) -> Referral | None:
    existing = session.scalar(sa.select(Referral).where(Referral.idempotency_key == key))
    if existing is not None and existing.request_hash != fingerprint:
        raise Conflict("this Idempotency-Key was already used with a different request body")
    return existing


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


def _triage_input(payload: dict[str, Any], patient: Patient) -> TriageInput:
    """Triage input from the payload, with the register's frailty and tier where not given."""
    data = {k: payload[k] for k in TRIAGE_KEYS if payload.get(k) is not None}
    data.setdefault("frailty", patient.frailty)
    data.setdefault("risk_tier", patient.risk_tier)
    if data.get("frailty") is None:
        data.pop("frailty")
    # Triage works out the age on the London day of the call (children's rules; NEWS2 is
    # not scored under 16), from the registered date of birth.
    data["date_of_birth"] = patient.date_of_birth
    try:
        return parse_triage_input(data)
    except TriageInputError as exc:
        raise InvalidInput("invalid referral", errors=exc.errors) from exc


TRIAGE_KEYS = (
    "received_at",
    "needs",
    "red_flags",
    "red_flag_answers",
    "observations",
    "frailty",
    "risk_tier",
    "pathways_disposition",
    "pathways_timeframe_minutes",
)


def _new_referral(
    payload: dict[str, Any],
    patient: Patient,
    inp: TriageInput,
    d: Disposition,
    actor: Actor,
    now: datetime,
) -> Referral:
    referrer = payload.get("referrer") or {}
    return Referral(
        patient_id=patient.id,
        network_id=patient.network_id,
        source=payload["source"],
        referrer_name=referrer.get("name") or actor.username,
        referrer_role=referrer.get("role"),
        referrer_organisation=referrer.get("organisation"),
        received_at=inp.received_at,
        needs=list(inp.needs),
        red_flags=list(inp.red_flags),
        observations=payload.get("observations") or {},
        frailty=inp.frailty,
        risk_tier=inp.risk_tier,
        pathways_disposition=inp.pathways_disposition,
        pathways_timeframe_minutes=inp.pathways_timeframe_minutes,
        notes=payload.get("notes"),
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
    reasons = list(d.reasons)
    if network_id != patient.network_id:
        home = session.get(Network, patient.network_id) if patient.network_id else None
        needed = ", ".join(sorted(skills))
        reasons.insert(0, f"Cross-cover: no one in {home.code if home else 'the home team'} "
                          f"has {needed}")
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
        priority=d.priority,
        reason="; ".join(reasons)[:300],
        status="unassigned",
        created_at=now,
        updated_at=now,
    )


def new_reference(session: so.Session, rng: random.Random) -> str:
    """A short unused visit reference: 4 digits while they last, then 5, then 6."""
    for digits in (REFERENCE_DIGITS, REFERENCE_DIGITS + 1, REFERENCE_DIGITS + 2):
        low, high = 10 ** (digits - 1), 10**digits - 1
        for _ in range(REFERENCE_TRIES):
            candidate = str(rng.randint(low, high))
            if session.scalar(sa.select(Visit.id).where(Visit.reference == candidate)) is None:
                return candidate
    raise Conflict("no free visit reference; try again")


def get_referral(session: so.Session, referral_id: int) -> Referral:
    """:raise NotFound: no such referral."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"referral {referral_id} not found")
    return referral

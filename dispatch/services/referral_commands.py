"""``NewReferral``: the one typed command every way in builds to log a referral.

The API schema (``ReferralCreateSchema``), the FHIR mapper (through the same schema), the web
form (through the same schema) and the demo and simulator (``new_referral_from_json``) all
build one, so ``dispatch.services.referrals.create_referral`` reads typed fields instead of a
dict. The triage input is parsed once, when the command is built; the service only adds what
the register knows (frailty, risk tier, age) with ``dataclasses.replace``.

Plain module: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dispatch.errors import InvalidInput
from triage import TriageInput, TriageInputError, parse_triage_input

# Triage fields the service derives itself rather than taking from the caller.
DERIVED_TRIAGE_FIELDS = frozenset({"age", "date_of_birth"})
# The one list of triage fields a referral carries: the inputs of ``TriageInput`` (a field
# added there is carried by every way in without another list to update).
TRIAGE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in dataclasses.fields(TriageInput) if f.name not in DERIVED_TRIAGE_FIELDS
)
PATIENT_FIELDS = ("nhs_number", "given_name", "family_name", "date_of_birth", "address",
                  "postcode", "phone")


@dataclass(frozen=True)
class Referrer:
    """Who made the referral (an empty name: the signed-in user)."""

    name: str
    role: str | None = None
    organisation: str | None = None


@dataclass(frozen=True)
class PatientDetails:
    """The patient as the caller describes them (every field optional; the NHS number too)."""

    nhs_number: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    address: str | None = None
    postcode: str | None = None
    phone: str | None = None

    def given(self) -> dict[str, Any]:
        """The fields the caller gave (not None, not blank)."""
        values = {name: getattr(self, name) for name in PATIENT_FIELDS}
        return {k: v for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class NewReferral:
    """A validated request to log a referral (``POST /api/referrals``'s body, typed).

    ``triage`` is the parsed triage input; ``triage_data`` the same fields as received (the
    observations are stored as sent, and the request fingerprint is computed from them).
    ``confirm_patient_id`` is the registered patient the caller confirmed after a
    ``patient_mismatch``; ``new_patient`` says the caller checked that a registered patient
    with the same name and date of birth is somebody else (only without an NHS number).
    """

    source: str
    referrer: Referrer
    triage: TriageInput
    triage_data: Mapping[str, Any] = field(default_factory=dict)
    patient_id: int | None = None
    patient: PatientDetails | None = None
    notes: str | None = None
    confirm_patient_id: int | None = None
    new_patient: bool = False

    def as_json(self) -> dict[str, Any]:
        """The request body this command stands for (keys left out when not given)."""
        body: dict[str, Any] = {
            "source": self.source,
            "referrer": {k: v for k, v in dataclasses.asdict(self.referrer).items()
                         if v is not None},
            **self.triage_data,
        }
        if self.patient_id is not None:
            body["patient_id"] = self.patient_id
        if self.patient is not None:
            body["patient"] = self.patient.given()
        if self.notes is not None:
            body["notes"] = self.notes
        if self.confirm_patient_id is not None:
            body["confirm_patient_id"] = self.confirm_patient_id
        if self.new_patient:
            body["new_patient"] = True
        return body

    def fingerprint(self) -> str:
        """A stable hash of the request, to tell a retry from a different request."""
        return request_hash(self.as_json())


def request_hash(payload: Mapping[str, Any]) -> str:
    """A stable fingerprint of a request body."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def triage_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The triage fields of a request body (those given, not None)."""
    return {k: data[k] for k in TRIAGE_FIELDS if data.get(k) is not None}


def parse_triage(data: Mapping[str, Any]) -> TriageInput:
    """Parse the triage fields of ``data``. :raise TriageInputError: naming every bad field."""
    return parse_triage_input(triage_fields(data))


def build(data: Mapping[str, Any], triage: TriageInput) -> NewReferral:
    """The command from an already validated body and its parsed triage input."""
    referrer = data.get("referrer") or {}
    details = data.get("patient")
    return NewReferral(
        source=data["source"],
        referrer=Referrer(referrer.get("name") or "", referrer.get("role"),
                          referrer.get("organisation")),
        triage=triage,
        triage_data=triage_fields(data),
        patient_id=data.get("patient_id"),
        patient=PatientDetails(**{k: details.get(k) for k in PATIENT_FIELDS})
        if details else None,
        notes=data.get("notes"),
        confirm_patient_id=data.get("confirm_patient_id"),
        new_patient=bool(data.get("new_patient")),
    )


def new_referral_from_json(data: Mapping[str, Any]) -> NewReferral:
    """A command from a trusted body (the demo and the simulator build theirs).

    Raises
    ------
    InvalidInput
        A bad triage field (the API validates everything else with its schema first).
    """
    try:
        triage = parse_triage(data)
    except TriageInputError as exc:
        raise InvalidInput("invalid referral", errors=exc.errors) from exc
    details = data.get("patient")
    if details and isinstance(details.get("date_of_birth"), str):
        details = {**details, "date_of_birth": date.fromisoformat(details["date_of_birth"])}
    return build({**data, "patient": details} if details else data, triage)

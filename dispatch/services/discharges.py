"""Hospital discharge referrals: a follow-up visit at home within 24 or 48 hours (issue 16).

A discharge is logged as a referral (source ``hospital_discharge``) through the same intake as
every other (patient matching, triage, audit), with the NHS Pathways-style timeframe set to
the follow-up window so that the visit's deadline is the discharge time plus 24 or 48 hours
(or sooner, if the needs call for it). The KPI counts follow-ups that started (arrived) by
their deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.errors import InvalidInput
from dispatch.models import HospitalDischarge, Patient, Visit
from dispatch.models.discharges import FOLLOW_UP_HOURS
from dispatch.services import audit, packages, referrals
from dispatch.services.referral_commands import new_referral_from_json
from triage import NEEDS, RED_FLAGS
from triage.timing import local

#: The follow-up visit checks how the person is managing at home after discharge.
DEFAULT_NEEDS = ("medication_review",)


@dataclass(frozen=True)
class DischargeResult:
    """The discharge logged, or found again (``created`` False) for a repeated request."""

    discharge: HospitalDischarge
    created: bool


class DischargeWithVisits:
    """A discharge as the API answers it, with its follow-up visit(s)."""

    def __init__(self, discharge: HospitalDischarge, visits: list[Visit]) -> None:
        self._discharge = discharge
        self.visits = visits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._discharge, name)


def with_visits(session: so.Session, discharge: HospitalDischarge) -> DischargeWithVisits:
    """``discharge`` with the visits of its referral."""
    visits = list(session.scalars(sa.select(Visit).where(
        Visit.referral_id == discharge.referral_id).order_by(Visit.id)))
    return DischargeWithVisits(discharge, visits)


def refer_discharge(
    session: so.Session, *, hospital: str, discharged_at: datetime,
    follow_up_hours: int, summary: str, actor: Actor, now: datetime,
    patient: Patient | None = None, patient_details: Mapping[str, Any] | None = None,
    needs: Sequence[str] = (), ward: str | None = None, care_package_needed: bool = False,
    package_lines: Sequence[packages.LineRequest] = (), request_id: str | None = None,
    idempotency_key: str | None = None, external_id: str | None = None,
) -> DischargeResult:
    """Log the discharge and its follow-up referral (with its visit); audited. Where the
    discharge summary asks for care at home (``package_lines``: tariff code, units a week,
    weeks), a draft care package starting on the discharge day is made, to be submitted and
    approved within the coordinator's threshold as any other.

    The patient is a registered ``patient`` (the API) or the ``patient_details`` a hospital's
    FHIR message carries (matched or registered by the referral intake, H-001). A repeat with
    the same ``idempotency_key`` and body (an API retry, a redelivered message) returns the
    first discharge and makes nothing new (no second referral, visit or package).

    :raise InvalidInput: a follow-up other than 24 or 48 hours, an unknown need, a discharge
        in the future, or no summary.
    :raise Conflict: the key was used for a different body.
    :raise PatientMismatch: the details disagree with the registered patient they match.
    """
    if (patient is None) == (patient_details is None):
        raise ValueError("give the patient or the patient details, not both")
    errors: dict[str, list[str]] = {}
    if follow_up_hours not in FOLLOW_UP_HOURS:
        errors["follow_up_hours"] = ["24 or 48"]
    unknown = [n for n in needs if n not in NEEDS]
    if unknown:
        errors["needs"] = [f"unknown: {', '.join(unknown)}"]
    if discharged_at > now:
        errors["discharged_at"] = ["is in the future"]
    if not summary.strip():
        errors["summary"] = ["give the discharge summary"]
    if errors:
        raise InvalidInput("invalid discharge", errors=errors)
    command = new_referral_from_json({
        "source": "hospital_discharge",
        "referrer": {"name": hospital, "role": "discharge team", "organisation": hospital},
        **({"patient_id": patient.id} if patient is not None
           else {"patient": dict(patient_details or {})}),
        "received_at": discharged_at.isoformat(),
        "needs": list(needs) or list(DEFAULT_NEEDS),
        "red_flag_answers": dict.fromkeys(RED_FLAGS, "not_asked"),
        "pathways_timeframe_minutes": follow_up_hours * 60,
        "notes": f"Discharged from {hospital}{_care_asked(package_lines)}: "
                 f"{summary.strip()}"[:1000],
    })
    made = referrals.create_referral(session, command=command, actor=actor, now=now,
                                     request_id=request_id, idempotency_key=idempotency_key,
                                     external_id=external_id)
    if not made.created:
        first = session.scalar(sa.select(HospitalDischarge).where(
            HospitalDischarge.referral_id == made.referral.id))
        if first is not None:
            return DischargeResult(first, created=False)
    patient_id = made.referral.patient_id
    row = HospitalDischarge(
        patient_id=patient_id, referral_id=made.referral.id, hospital=hospital.strip()[:120],
        ward=ward, discharged_at=discharged_at, follow_up_hours=follow_up_hours,
        summary=summary.strip()[:2000], care_package_needed=care_package_needed,
        created_at=now, created_by=actor.username[:120])
    if package_lines:
        package = packages.create_package(
            session, patient_id=patient_id, start_date=local(discharged_at).date(),
            end_date=None, lines=package_lines, actor=actor, now=now, request_id=request_id)
        row.package_id = package.id
        row.care_package_needed = True
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="hospital_discharge", now=now,
                 patient_id=patient_id, entity=("hospital_discharge", row.id),
                 purpose="follow up a hospital discharge at home", request_id=request_id,
                 details={"referral_id": made.referral.id, "follow_up_hours": follow_up_hours})
    return DischargeResult(row, created=True)


def _care_asked(lines: Sequence[packages.LineRequest]) -> str:
    """The care at home asked for, in the referral's notes: the follow-up visitor reads it,
    and a retry with the same Idempotency-Key but other lines is a conflict, not a replay."""
    if not lines:
        return ""
    asked = "; ".join(f"{line.tariff_code} {line.units_per_week:g} a week for {line.weeks} "
                      f"weeks" for line in lines)
    return f" (care at home asked for: {asked})"


@dataclass(frozen=True)
class DischargeKpi:
    """Discharge follow-ups due in a period: met (arrived by the deadline), missed, open."""

    count: int
    met: int
    missed: int
    open: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.missed
        return round(self.met / decided, 3) if decided else None


def discharge_kpi(session: so.Session, *, since: datetime, until: datetime,
                  now: datetime, network_id: int | None = None) -> DischargeKpi:
    """Follow-ups of discharges in ``[since, until)`` (of one network's patients with
    ``network_id``): met when a visit of its referral arrived by the deadline; missed when
    none did and the deadline has passed; else open."""
    stmt = sa.select(HospitalDischarge).where(HospitalDischarge.discharged_at >= since,
                                              HospitalDischarge.discharged_at < until)
    if network_id is not None:
        stmt = stmt.join(Patient, Patient.id == HospitalDischarge.patient_id).where(
            Patient.network_id == network_id)
    met = missed = still_open = 0
    discharges = list(session.scalars(stmt))
    for row in discharges:
        visits = list(session.scalars(sa.select(Visit).where(
            Visit.referral_id == row.referral_id)))
        if visits and any(v.arrived_at is not None and v.arrived_at <= v.deadline
                          for v in visits):
            met += 1
        elif not visits or all(v.deadline < now for v in visits):
            missed += 1
        else:
            still_open += 1
    return DischargeKpi(len(discharges), met, missed, still_open)

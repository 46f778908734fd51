"""Care plans are shared only with recorded consent or an audited emergency override."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.factories import NOW


def _patient_with_plan(session: so.Session, *, consent: bool) -> m.Patient:
    extra = {"consent_recorded_by": "Dr Patel", "consent_recorded_at": NOW} if consent else {}
    patient = f.patient(session, consent_to_share=consent, **extra)
    session.add(m.CarePlan(patient_id=patient.id, version=1, summary="old", author="GP"))
    session.add(m.CarePlan(patient_id=patient.id, version=2, summary="Lives alone; key safe",
                           author="GP"))
    session.commit()
    return patient


def _audit(session: so.Session, patient_id: int) -> list[m.AuditEvent]:
    stmt = sa.select(m.AuditEvent).where(m.AuditEvent.patient_id == patient_id)
    return list(session.scalars(stmt.order_by(m.AuditEvent.id)))


def test_care_plan_with_consent_is_shown_and_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """With consent the latest version is returned and the read is logged with its purpose."""
    patient = _patient_with_plan(session, consent=True)
    response = client.get(f"/api/patients/{patient.id}/care-plan?purpose=triage+call",
                          headers=token_for("call_handler", username="ann"))
    assert response.status_code == 200, response.json
    assert response.json["version"] == 2 and response.json["access_basis"] == "consent"
    [event] = _audit(session, patient.id)
    assert (event.action, event.username, event.role, event.purpose) == (
        "view_care_plan", "ann", "call_handler", "triage call")


def test_care_plan_without_consent_refused_and_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """Without consent the plan is withheld (403) and the attempt is still logged."""
    patient = _patient_with_plan(session, consent=False)
    response = client.get(f"/api/patients/{patient.id}/care-plan",
                          headers=token_for("call_handler"))
    assert response.status_code == 403
    assert "emergency override" in response.json["message"]
    assert [e.action for e in _audit(session, patient.id)] == ["care_plan_refused"]


def test_care_plan_emergency_override_records_reason(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """An override with a listed purpose and a real reason shows the plan and logs both."""
    patient = _patient_with_plan(session, consent=False)
    reason = "patient unconscious, clinician needs allergies"
    response = client.get(f"/api/patients/{patient.id}/care-plan",
                          query_string={"override_purpose": "emergency_care",
                                        "override_reason": reason},
                          headers=token_for("coordinator"))
    assert response.status_code == 200
    assert response.json["access_basis"] == "emergency_override"
    [event] = _audit(session, patient.id)
    assert event.purpose == f"Emergency care - patient unable to consent: {reason}"
    assert event.details["basis"] == "emergency_override"


def test_care_plan_override_reason_too_short(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """'x' is not a reason: 422."""
    patient = _patient_with_plan(session, consent=False)
    response = client.get(
        f"/api/patients/{patient.id}/care-plan?override_purpose=safeguarding&override_reason=x",
        headers=token_for("coordinator"))
    assert response.status_code == 422


def test_patient_search_by_nhs_number(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """Spaces in the NHS number are fine; a bad check digit is a 422; no terms is a 422."""
    patient = f.patient(session)
    session.commit()
    headers = token_for("call_handler")
    found = client.get("/api/patients?nhs_number=943+476+5919", headers=headers)
    assert [p["id"] for p in found.json] == [patient.id]
    assert client.get("/api/patients?nhs_number=9434765918", headers=headers).status_code == 422
    assert client.get("/api/patients", headers=headers).status_code == 422
    by_name = client.get("/api/patients?family_name=bloggs&date_of_birth=1941-03-02",
                         headers=headers)
    assert [p["id"] for p in by_name.json] == [patient.id]

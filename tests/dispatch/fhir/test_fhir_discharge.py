"""A hospital discharge by FHIR message (issue 16, item 5; H-205-C2): the same discharge
referral and 24 or 48-hour follow-up visit as ``POST /api/discharges``, once per message."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so
from werkzeug.test import TestResponse

from dispatch import models as m
from dispatch.fhir import codes as c
from tests.dispatch import factories as f

FIXTURES = Path(__file__).parents[1] / "fhir_fixtures"
URL = "/fhir/$process-message"
KEEP = ("MessageHeader", "ServiceRequest", "Patient", "Encounter", "Consent", "PractitionerRole",
        "Practitioner", "Organization")


def discharge_message(hours: int = 24) -> dict[str, Any]:
    """The 111 example turned into a discharge from Charing Cross at 09:00 on 1 December."""
    body: dict[str, Any] = json.loads((FIXTURES / "referral_111_fall.json").read_text())
    body["identifier"]["value"] = "discharge-message-0001"
    body["entry"] = [e for e in body["entry"] if e["resource"]["resourceType"] in KEEP]
    for entry in body["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        if kind == "ServiceRequest":
            resource["identifier"][0]["value"] = "CXH-DISCHARGE-0001"
            resource.pop("basedOn")
            resource["category"].append({"coding": [{
                "system": c.REFERRAL_TYPE_SYSTEM, "code": c.REFERRAL_TYPE_DISCHARGE}]})
            end = "2026-12-02T09:00:00+00:00" if hours == 24 else "2026-12-03T09:00:00+00:00"
            resource["occurrencePeriod"] = {"start": "2026-12-01T09:00:00+00:00", "end": end}
            resource["note"] = [{"text": "Hip repair; memory worse; needs help with mobility"}]
        elif kind == "Encounter":
            resource["class"] = {"system": c.ENCOUNTER_CLASS_SYSTEM, "code": "IMP"}
            resource["period"] = {"start": "2026-11-25T14:00:00+00:00",
                                  "end": "2026-12-01T09:00:00+00:00"}
        elif kind == "Organization":
            resource["name"] = "Charing Cross Hospital"
        elif kind == "MessageHeader":
            resource["source"] = {"name": "Charing Cross Hospital discharge team",
                                  "endpoint": "https://cxh.example.nhs.uk/fhir"}
    return body


def _post(client: FlaskClient, headers: dict[str, str], body: dict[str, Any]) -> TestResponse:
    return client.post(URL, data=json.dumps(body),
                       headers={**headers, "Content-Type": "application/fhir+json"})


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler")


@pytest.fixture
def network(session: so.Session) -> m.Network:
    row = f.network(session)
    f.base(session, network_id=row.id)
    session.commit()
    return row


@pytest.mark.parametrize(("hours", "deadline"), [(24, "2026-12-02T09:00:00+00:00"),
                                                 (48, "2026-12-03T09:00:00+00:00")])
@pytest.mark.safety("H-205")
def test_fhir_discharge_makes_the_follow_up_once(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session,
    hours: int, deadline: str,
) -> None:
    """A discharge message makes one hospital_discharge referral, its discharge row and a
    visit due 24 or 48 hours after discharge; a redelivery answers the same Task and makes
    nothing new."""
    body = discharge_message(hours)
    first = _post(client, handler, body)
    second = _post(client, handler, body)

    assert first.status_code == second.status_code == 200, first.get_data(as_text=True)
    [discharge] = session.scalars(sa.select(m.HospitalDischarge))
    referral = session.get_one(m.Referral, discharge.referral_id)
    assert referral.source == "hospital_discharge"
    assert referral.external_id == "CXH-DISCHARGE-0001"
    assert (discharge.hospital, discharge.follow_up_hours) == ("Charing Cross Hospital", hours)
    assert discharge.summary == "Hip repair; memory worse; needs help with mobility"
    [visit] = referral.visits
    assert visit.deadline.isoformat() == deadline
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Referral)) == 1
    patient = session.get_one(m.Patient, discharge.patient_id)
    assert patient.nhs_number == "9434765919"
    # The message's Consent covers this episode only; the patient's record is unchanged (H-009).
    assert referral.episode_consent_by == "Charing Cross Hospital"
    assert not patient.consent_to_share
    tasks = [[e["resource"] for e in r.get_json()["entry"]
              if e["resource"]["resourceType"] == "Task"][0] for r in (first, second)]
    assert tasks[0]["id"] == tasks[1]["id"] == str(referral.id)


@pytest.mark.safety("H-205")
def test_fhir_discharge_matches_the_registered_patient(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """The registered patient with that NHS number and matching details gets the discharge."""
    joe = f.patient(session, nhs_number="9434765919", given_name="Joe", family_name="Bloggs",
                    postcode="W12 7RQ")
    session.commit()
    response = _post(client, handler, discharge_message())
    assert response.status_code == 200, response.get_data(as_text=True)
    [discharge] = session.scalars(sa.select(m.HospitalDischarge))
    assert discharge.patient_id == joe.id


@pytest.mark.parametrize(("change", "where"), [
    ("window", "occurrencePeriod.end"), ("no_end", "period.end"), ("no_summary", ".note"),
    ("observation", "Bundle.entry[")])
@pytest.mark.safety("H-205")
def test_invalid_fhir_discharge_answers_an_operation_outcome(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session,
    change: str, where: str,
) -> None:
    """A follow-up window other than 24 or 48 hours, no discharge time, no summary, or an
    observation (never dropped silently: an unwell patient needs an urgent referral): 422
    with an OperationOutcome naming the element; nothing is made."""
    body = discharge_message()
    service_request = body["entry"][1]["resource"]
    encounter = next(e["resource"] for e in body["entry"]
                     if e["resource"]["resourceType"] == "Encounter")
    if change == "window":
        service_request["occurrencePeriod"]["end"] = "2026-12-04T09:00:00+00:00"
    elif change == "no_end":
        encounter["period"].pop("end")
    elif change == "no_summary":
        service_request.pop("note")
    else:
        full = json.loads((FIXTURES / "referral_111_fall.json").read_text())
        body["entry"].append(next(e for e in full["entry"]
                                  if e["resource"]["resourceType"] == "Observation"))
    response = _post(client, handler, copy.deepcopy(body))

    assert response.status_code == 422
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(where in i["expression"][0] for i in outcome["issue"]), outcome
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Referral)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(m.HospitalDischarge)) == 0


def _with_care_plan(body: dict[str, Any], activity: dict[str, Any]) -> dict[str, Any]:
    """The discharge message with a CarePlan asking for care at home (one activity)."""
    body = copy.deepcopy(body)
    patient = next(e for e in body["entry"] if e["resource"]["resourceType"] == "Patient")
    body["entry"].append({"fullUrl": "urn:uuid:9a1c7a52-3f0e-4f8e-9d55-2f1f0c6a0c01",
                          "resource": {"resourceType": "CarePlan", "status": "active",
                                       "intent": "plan",
                                       "subject": {"reference": patient["fullUrl"]},
                                       "activity": [activity]}})
    return body


REABLEMENT = {"detail": {
    "status": "not-started",
    "code": {"coding": [{"system": c.CARE_TARIFF_SYSTEM, "code": "reablement_visit"}]},
    "scheduledTiming": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d",
                                   "boundsDuration": {"value": 2, "unit": "wk",
                                                      "system": "http://unitsofmeasure.org",
                                                      "code": "wk"}}}}}


@pytest.mark.safety("H-205")
def test_fhir_discharge_care_at_home_makes_a_draft_package(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """A CarePlan in the discharge message asking for reablement twice a day for two weeks
    gives the same draft care package as POST /api/discharges' care_package: 14 a week for 2
    weeks from the discharge day, to be approved as any other; a redelivery makes no second."""
    from datetime import date

    from dispatch.services import tariffs

    tariffs.ensure_default_tariff(session, date(2026, 12, 1))
    session.commit()
    body = _with_care_plan(discharge_message(), REABLEMENT)
    first = _post(client, handler, body)
    again = _post(client, handler, body)
    assert first.status_code == again.status_code == 200, first.get_data(as_text=True)
    [discharge] = session.scalars(sa.select(m.HospitalDischarge))
    assert discharge.care_package_needed and discharge.package_id is not None
    package = session.get_one(m.CarePackage, discharge.package_id)
    assert package.status == "draft"
    [item] = package.items
    assert (item.units_per_week, item.weeks) == (14, 2)
    assert session.scalar(sa.select(sa.func.count()).select_from(m.CarePackage)) == 1


@pytest.mark.parametrize(("detail", "where"), [
    ({"status": "not-started", "code": {"text": "some help"}}, "activity[0].detail.code"),
    ({"status": "not-started",
      "code": {"coding": [{"system": c.CARE_TARIFF_SYSTEM, "code": "reablement_visit"}]}},
     "scheduledTiming.repeat"),
    ({"status": "not-started",
      "code": {"coding": [{"system": c.CARE_TARIFF_SYSTEM, "code": "reablement_visit"}]},
      "scheduledTiming": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                     "boundsDuration": {"value": 10, "code": "d"}}}},
     "boundsDuration"),
])
@pytest.mark.safety("H-205")
def test_fhir_discharge_care_at_home_that_cannot_be_read_is_refused(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session,
    detail: dict[str, Any], where: str,
) -> None:
    """Care asked for but unreadable (no tariff code, no frequency, not whole weeks) is an
    OperationOutcome naming the element, never a discharge without its care."""
    response = _post(client, handler, _with_care_plan(discharge_message(), {"detail": detail}))
    assert response.status_code == 422, response.get_data(as_text=True)
    issues = response.get_json()["issue"]
    assert any(where in " ".join(i.get("expression", [])) for i in issues), issues
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Referral)) == 0

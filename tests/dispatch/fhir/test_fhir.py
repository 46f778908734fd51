"""FHIR (BaRS-style) intake: POST /fhir/$process-message and GET /fhir/Task/{id}.

The example messages live in ``fhir_fixtures/`` as JSON (entry 0 MessageHeader, 1
ServiceRequest, 2 Patient, 3 Encounter, 4 CarePlan, then Flags, Consent, people and
Observations). The clock is the suite's FIXED_NOW, 10:20 on 1 December 2026.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task
from flask.testing import FlaskClient
from sqlalchemy import orm as so
from werkzeug.test import TestResponse

from dispatch import models as m
from dispatch import states
from dispatch.fhir.task import REJECTED_REFERRAL_REASONS, VISIT_TASK_STATUS, task_status
from tests.dispatch import factories as f

FIXTURES = Path(__file__).parents[1] / "fhir_fixtures"
URL = "/fhir/$process-message"
FHIR_JSON = "application/fhir+json"
OCCURRENCE_END = datetime(2026, 12, 1, 11, 45, tzinfo=UTC)  # in referral_111_fall.json
TASK_REQUESTED_HEADER_ID = "5e1d4c2b-0001-4f6a-8b3c-9d0e1f2a3b4c"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def _post(client: FlaskClient, headers: dict[str, str], body: dict[str, Any] | str) -> TestResponse:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, headers={**headers, "Content-Type": FHIR_JSON})


def _task(response: TestResponse) -> dict[str, Any]:
    bundle = response.get_json()
    tasks = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"]
    assert len(tasks) == 1
    return tasks[0]


def _referrals(session: so.Session) -> list[m.Referral]:
    return list(session.scalars(sa.select(m.Referral).order_by(m.Referral.id)))


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler")


@pytest.fixture
def network(session: so.Session) -> m.Network:
    """A network with a base near W12, so a new patient there is placed in it."""
    row = f.network(session)
    f.base(session, network_id=row.id)
    session.commit()
    return row


def test_process_message_round_trip_answers_with_requested_task(
    client: FlaskClient, handler: dict[str, str], network: m.Network
) -> None:
    """A valid 111 referral is answered with a message Bundle whose Task is requested."""
    response = _post(client, handler, _fixture("referral_111_fall.json"))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    body = response.get_json()
    assert Bundle.model_validate(body).type == "message"
    header = body["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["response"] == {"identifier": TASK_REQUESTED_HEADER_ID, "code": "ok"}
    task = _task(response)
    Task.model_validate(task)
    assert task["status"] == "requested" and task["intent"] == "order"
    assert task["focus"]["identifier"]["value"] == "SR-111-0001"
    assert task["for"]["identifier"]["value"] == "9434765919"
    assert task["owner"]["display"] == network.name
    assert task["businessStatus"]["text"] == "Urgent community response within 2 hours"
    assert datetime.fromisoformat(task["restriction"]["period"]["end"]) == OCCURRENCE_END


def test_process_message_creates_referral_with_tightened_deadline(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """occurrencePeriod.end (11:45) is earlier than our 2-hour deadline (12:15): it wins."""
    response = _post(client, handler, _fixture("referral_111_fall.json"))

    assert response.status_code == 200, response.get_data(as_text=True)
    [referral] = _referrals(session)
    [visit] = referral.visits
    assert referral.id == int(_task(response)["id"])
    assert referral.deadline == OCCURRENCE_END and visit.deadline == OCCURRENCE_END
    assert visit.earliest_start <= visit.deadline
    disposition = referral.disposition or {}
    assert datetime.fromisoformat(disposition["deadline"]) == OCCURRENCE_END
    assert "occurrencePeriod.end" in disposition["reasons"][-1]
    assert referral.external_id == "SR-111-0001" and referral.source == "111"
    assert referral.category == "urgent_2h"


def test_process_message_maps_codes_observations_flags_and_consent(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """CarePlan codes become needs, Observations NEWS2 inputs, Flags notes, Consent is kept
    for the episode."""
    response = _post(client, handler, _fixture("referral_111_fall.json"))

    assert response.status_code == 200, response.get_data(as_text=True)
    [referral] = _referrals(session)
    assert referral.needs == ["fall_no_injury", "sudden_confusion"]
    assert referral.pathways_disposition == "Dx05"
    assert referral.observations == {"respiration_rate": 18, "spo2": 97, "systolic_bp": 130,
                                     "pulse": 80, "temperature": 36.8,
                                     "consciousness": "new_confusion", "on_oxygen": False}
    assert referral.news2_total == 3
    notes = referral.notes or ""
    assert "Safeguarding concern: Unspecified Safeguarding Concern Identified" in notes
    assert "Reasonable adjustment: Provision of Additional Support" in notes
    assert referral.referrer_name == "Marcy Blake"
    patient = session.get_one(m.Patient, referral.patient_id)
    # The Consent covers this referral's episode only (H-009): the patient's record is unchanged.
    assert referral.episode_consent_by == "NHS 111 North West London"
    assert not patient.consent_to_share and patient.consent_recorded_by is None
    actions = set(session.scalars(sa.select(m.AuditEvent.action)))
    assert {"create_referral", "record_episode_consent", "fhir_referral_received"} <= actions


def test_process_message_same_bundle_twice_makes_one_referral(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """A redelivered message (same Bundle.identifier) returns the same Task, nothing new."""
    body = _fixture("referral_111_fall.json")

    first = _post(client, handler, body)
    second = _post(client, handler, body)

    assert first.status_code == second.status_code == 200
    assert _task(first)["id"] == _task(second)["id"]
    assert len(_referrals(session)) == 1


def test_process_message_same_service_request_in_new_message_is_duplicate(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """Another message carrying an already-received ServiceRequest is refused, not duplicated."""
    body = _fixture("referral_111_fall.json")
    again = copy.deepcopy(body)
    again["identifier"]["value"] = "another-message-id"

    assert _post(client, handler, body).status_code == 200
    response = _post(client, handler, again)

    assert response.status_code == 409
    assert response.get_json()["issue"][0]["code"] == "duplicate"
    assert len(_referrals(session)) == 1


def test_task_follows_the_visit_through_its_states(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """GET Task: requested until accepted, in-progress en route and on site, then completed."""
    created = _post(client, handler, _fixture("referral_111_fall.json"))
    task_id = _task(created)["id"]
    [visit] = _referrals(session)[0].visits
    worker = f.staff(session, network_id=network.id)
    steps = [("assigned", "requested"), ("offered", "requested"), ("accepted", "accepted"),
             ("en_route", "in-progress"), ("on_site", "in-progress"), ("completed", "completed")]
    seen = [client.get(f"/fhir/Task/{task_id}", headers=handler).get_json()["status"]]

    for new_status, _ in steps:
        visit.assigned_staff_id = worker.id
        visit.pinned = new_status in states.VISIT_PINNED_STATUSES
        visit.outcome = "visit_completed" if new_status == "completed" else None
        states.move("visit", visit, new_status)
        session.commit()
        response = client.get(f"/fhir/Task/{task_id}", headers=handler)
        assert response.status_code == 200 and response.mimetype == FHIR_JSON
        seen.append(response.get_json()["status"])

    assert seen == ["requested"] + [expected for _, expected in steps]
    final = client.get(f"/fhir/Task/{task_id}", headers=handler).get_json()
    Task.model_validate(final)
    assert final["output"][-1]["valueCodeableConcept"]["coding"][0]["code"] == "visit_completed"


def test_process_message_news2_high_is_rejected_with_reason(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """NEWS2 of 7+ from a 999 use-case message: no visit, Task rejected saying why."""
    response = _post(client, handler, _fixture("referral_999_news2_high.json"))

    assert response.status_code == 200, response.get_data(as_text=True)
    task = _task(response)
    assert task["status"] == "rejected"
    assert task["statusReason"]["text"].startswith(REJECTED_REFERRAL_REASONS["sent_to_999"])
    assert "NEWS2" in task["statusReason"]["text"]
    [referral] = _referrals(session)
    assert referral.status == "sent_to_999" and referral.source == "999"
    assert referral.visits == [] and (referral.news2_total or 0) >= 7


BAD_BUNDLES = [
    # (fixture or raw body, HTTP status, issue code, expression, words in diagnostics)
    ("{not json", 400, "structure", "Bundle", "not JSON"),
    ("bad_not_a_message.json", 400, "invalid", "Bundle.type", "'message'"),
    ("bad_missing_service_request.json", 422, "invalid", "Bundle.entry[0].resource.focus[0]",
     "ServiceRequest"),
    ("bad_broken_patient_reference.json", 422, "invalid", "Bundle.entry[1].resource.subject",
     "Patient"),
    ("bad_nhs_number.json", 422, "invalid", "Bundle.entry[2].resource.identifier[0].value",
     "check digit"),
    ("bad_unknown_code.json", 422, "code-invalid",
     "Bundle.entry[4].resource.activity[1].detail.code.coding[0].code", "teleportation"),
]


@pytest.mark.parametrize(("source", "status", "code", "expression", "words"), BAD_BUNDLES)
def test_process_message_bad_bundle_gets_operation_outcome(
    client: FlaskClient, handler: dict[str, str], session: so.Session,
    source: str, status: int, code: str, expression: str, words: str,
) -> None:
    """Each kind of bad bundle is refused with an OperationOutcome naming the element."""
    body = _fixture(source) if source.endswith(".json") else source

    response = _post(client, handler, body)

    assert response.status_code == status
    assert response.mimetype == FHIR_JSON
    outcome = OperationOutcome.model_validate(response.get_json())
    matching = [i for i in outcome.issue
                if i.code == code and i.expression == [expression]
                and words in (i.diagnostics or "")]
    assert matching, response.get_json()
    assert all(i.severity == "error" for i in outcome.issue)
    assert _referrals(session) == []


def test_process_message_fahrenheit_temperature_is_refused(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A temperature we would have to guess the scale of is refused, not mis-scored."""
    body = _fixture("referral_111_fall.json")
    for entry in body["entry"]:
        quantity = entry["resource"].get("valueQuantity", {})
        if quantity.get("code") == "Cel":
            quantity.update(value=98.2, unit="[degF]", code="[degF]")

    response = _post(client, handler, body)

    assert response.status_code == 422
    [issue] = response.get_json()["issue"]
    assert issue["code"] == "code-invalid" and "Celsius" in issue["diagnostics"]
    assert _referrals(session) == []


def test_process_message_revoked_service_request_cancels_referral(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """An update with ServiceRequest.status revoked cancels the referral and its visit, once."""
    assert _post(client, handler, _fixture("referral_111_fall.json")).status_code == 200

    response = _post(client, handler, _fixture("cancel_revoked.json"))
    again = _post(client, handler, _fixture("cancel_revoked.json"))

    assert response.status_code == again.status_code == 200, response.get_data(as_text=True)
    task = _task(response)
    assert task["status"] == "rejected"
    assert task["statusReason"]["text"].startswith("Cancelled by the referrer")
    [referral] = _referrals(session)
    session.refresh(referral)
    assert referral.status == "cancelled"
    assert [v.status for v in referral.visits] == ["cancelled"]


def test_process_message_revoke_tells_the_offered_worker(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """A worker who had the offer gets a 'cancelled' text when the referrer revokes it."""
    assert _post(client, handler, _fixture("referral_111_fall.json")).status_code == 200
    [visit] = _referrals(session)[0].visits
    worker = f.staff(session, network_id=network.id)
    visit.assigned_staff_id = worker.id
    for new_status in ("assigned", "offered"):
        states.move("visit", visit, new_status)
    session.commit()

    assert _post(client, handler, _fixture("cancel_revoked.json")).status_code == 200

    texts = session.scalars(sa.select(m.Message).where(m.Message.to_number == worker.phone))
    assert any(visit.reference in t.body and "cancel" in t.body.lower() for t in texts)


def test_process_message_cancel_after_arrival_is_conflict(
    client: FlaskClient, handler: dict[str, str], network: m.Network, session: so.Session
) -> None:
    """Once the worker is on site the referral cannot be withdrawn by message: 409."""
    assert _post(client, handler, _fixture("referral_111_fall.json")).status_code == 200
    [visit] = _referrals(session)[0].visits
    visit.assigned_staff_id = f.staff(session, network_id=network.id).id
    visit.pinned = True
    for new_status in ("assigned", "accepted", "on_site"):
        states.move("visit", visit, new_status)
    session.commit()

    response = _post(client, handler, _fixture("cancel_revoked.json"))

    assert response.status_code == 409
    [issue] = response.get_json()["issue"]
    assert issue["code"] == "conflict" and "on_site" in issue["diagnostics"]


def test_process_message_cancel_unknown_service_request_is_not_found(
    client: FlaskClient, handler: dict[str, str]
) -> None:
    """Cancelling a ServiceRequest we never received says so (422 not-found)."""
    response = _post(client, handler, _fixture("cancel_revoked.json"))

    assert response.status_code == 422
    assert response.get_json()["issue"][0]["code"] == "not-found"


@pytest.mark.parametrize("task_id", ["999999", "abc", "12345678901234567890"])
def test_task_unknown_id_is_404_operation_outcome(
    client: FlaskClient, handler: dict[str, str], task_id: str
) -> None:
    """An unknown Task id is a 404 OperationOutcome, whatever its shape."""
    response = client.get(f"/fhir/Task/{task_id}", headers=handler)

    assert response.status_code == 404 and response.mimetype == FHIR_JSON
    assert response.get_json()["issue"][0]["code"] == "not-found"


def test_fhir_routes_need_sign_in_and_the_right_role(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """Anonymous callers get 401; field staff may neither post referrals nor read Tasks."""
    body = _fixture("referral_111_fall.json")
    field = token_for("field_staff")

    assert _post(client, {}, body).status_code == 401
    assert _post(client, field, body).status_code == 403
    assert client.get("/fhir/Task/1").status_code == 401
    assert client.get("/fhir/Task/1", headers=field).status_code == 403


@pytest.mark.parametrize(("visit_status", "expected"), sorted(VISIT_TASK_STATUS.items()))
def test_task_status_follows_visit(visit_status: str, expected: str) -> None:
    """The documented visit -> Task status table, for a scheduled referral."""
    assert task_status("scheduled", visit_status) == (expected, None)


@pytest.mark.parametrize("referral_status", sorted(REJECTED_REFERRAL_REASONS))
def test_task_status_rejected_for_closed_referrals(referral_status: str) -> None:
    """999, signposted, cancelled and rejected referrals are rejected Tasks with a reason."""
    status, reason = task_status(referral_status, None)
    assert status == "rejected" and reason == REJECTED_REFERRAL_REASONS[referral_status]

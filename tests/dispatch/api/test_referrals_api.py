"""POST /api/referrals end to end: validation, patient matching, triage, visit, idempotency."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f

RECEIVED = "2026-12-01T10:15:00+00:00"  # 10:15 in London: inside urgent-response hours


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "111",
        "referrer": {"name": "A. Handler", "role": "call handler", "organisation": "NHS 111"},
        "received_at": RECEIVED,
        "needs": ["fall_no_injury"],
        "observations": {
            "respiration_rate": 18,
            "spo2": 97,
            "systolic_bp": 130,
            "pulse": 80,
            "consciousness": "alert",
            "temperature": 36.8,
        },
        "patient": {
            "nhs_number": "943 476 5919",
            "given_name": "Joe",
            "family_name": "Bloggs",
            "date_of_birth": "1941-03-02",
            "address": "1 Wood Lane",
            "postcode": "w12 7rq",
        },
    }
    body.update(overrides)
    return body


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler")


def _count(session: so.Session, model: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_post_referral_creates_patient_referral_and_visit(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A fall without injury at 10:15 is a 2-hour urgent response with one visit."""
    response = client.post("/api/referrals", json=_body(), headers=handler)
    assert response.status_code == 201, response.json
    data = response.json
    assert data["status"] == "scheduled"
    assert data["disposition"]["category"] == "urgent_2h"
    assert data["disposition"]["deadline"].startswith("2026-12-01T12:15")
    assert data["disposition"]["news2"]["total"] == 0
    assert len(data["visits"]) == 1 and data["visits"][0]["status"] == "unassigned"
    patient = session.get(m.Patient, data["patient_id"])
    assert patient is not None and patient.nhs_number == "9434765919"
    assert patient.postcode == "W12 7RQ"
    events = session.scalars(
        sa.select(m.AuditEvent).where(m.AuditEvent.action == "create_referral")
    )
    assert [e.patient_id for e in events] == [patient.id]


def test_post_referral_matches_existing_patient_by_nhs_number(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A known NHS number reuses the registered patient (no duplicate)."""
    known = f.patient(session)
    session.commit()
    response = client.post(
        "/api/referrals", json=_body(patient={"nhs_number": "9434765919"}), headers=handler
    )
    assert response.status_code == 201, response.json
    assert response.json["patient_id"] == known.id
    assert _count(session, m.Patient) == 1


def test_post_referral_matches_by_name_birth_date_and_postcode(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Without an NHS number the patient is found by family name, date of birth and postcode."""
    known = f.patient(session)
    session.commit()
    details = {
        "given_name": "joe",
        "family_name": "BLOGGS",
        "date_of_birth": "1941-03-02",
        "postcode": "W127RQ",
    }
    response = client.post("/api/referrals", json=_body(patient=details), headers=handler)
    assert response.status_code == 201, response.json
    assert response.json["patient_id"] == known.id


def test_post_referral_red_flag_goes_to_999_without_visit(
    client: FlaskClient, handler: dict[str, str]
) -> None:
    """Chest pain is a red flag: 999, and never a community visit."""
    response = client.post("/api/referrals", json=_body(red_flags=["chest_pain"]), headers=handler)
    assert response.status_code == 201, response.json
    assert response.json["disposition"]["category"] == "emergency_999"
    assert response.json["status"] == "sent_to_999"
    assert response.json["visits"] == []


def test_post_referral_names_every_bad_field(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """One 422 lists all problems: source, observation range, unknown need, postcode."""
    body = _body(
        source="carrier pigeon", needs=["fall_no_injury", "teleport"], observations={"spo2": 101}
    )
    body["patient"]["postcode"] = "NOT A POSTCODE"
    response = client.post("/api/referrals", json=body, headers=handler)
    assert response.status_code == 422
    errors = response.json["errors"]["json"]
    assert {"source", "needs", "observations.spo2", "patient"} <= set(errors)
    assert _count(session, m.Referral) == 0


def test_post_referral_invalid_nhs_number_422(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A wrong check digit is refused with a sentence, and nothing is written."""
    body = _body()
    body["patient"]["nhs_number"] = "9434765918"
    response = client.post("/api/referrals", json=body, headers=handler)
    assert response.status_code == 422
    assert "check digit" in response.json["errors"]["patient.nhs_number"][0]
    assert _count(session, m.Patient) == 0 and _count(session, m.Referral) == 0


def test_post_referral_unknown_patient_needs_details(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """An unregistered patient without details gives 422 naming the missing fields."""
    body = _body(patient={"nhs_number": "9434765919"})
    response = client.post("/api/referrals", json=body, headers=handler)
    assert response.status_code == 422
    assert "patient.family_name" in response.json["errors"]
    assert _count(session, m.Referral) == 0


def test_idempotency_same_key_same_body_one_referral(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A retried POST with the same key and body returns the first referral, not a second."""
    headers = {**handler, "Idempotency-Key": "call-123"}
    first = client.post("/api/referrals", json=_body(), headers=headers)
    second = client.post("/api/referrals", json=_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json["id"] == second.json["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert _count(session, m.Referral) == 1 and _count(session, m.Visit) == 1


def test_idempotency_same_key_other_body_409(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Reusing a key for a different request is a conflict, and changes nothing."""
    headers = {**handler, "Idempotency-Key": "call-456"}
    assert client.post("/api/referrals", json=_body(), headers=headers).status_code == 201
    other = client.post("/api/referrals", json=_body(needs=["wound_care"]), headers=headers)
    assert other.status_code == 409
    assert "different request body" in other.json["message"]
    assert _count(session, m.Referral) == 1


def test_get_referral_round_trip(client: FlaskClient, handler: dict[str, str]) -> None:
    """GET returns what POST created; an unknown id is a 404."""
    created = client.post("/api/referrals", json=_body(), headers=handler).json
    got = client.get(f"/api/referrals/{created['id']}", headers=handler)
    assert got.status_code == 200 and got.json == created
    assert client.get("/api/referrals/999999", headers=handler).status_code == 404


def test_referrals_need_sign_in_and_role(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """Anonymous is 401; a field worker may not log referrals (403)."""
    assert client.post("/api/referrals", json=_body()).status_code == 401
    bad = client.post("/api/referrals", json=_body(), headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    field = client.post("/api/referrals", json=_body(), headers=token_for("field_staff"))
    assert field.status_code == 403


def test_visit_readable_by_id(client: FlaskClient, handler: dict[str, str]) -> None:
    """The referral's visit is readable with the contract's fields."""
    created = client.post("/api/referrals", json=_body(), headers=handler).json
    visit_id = created["visits"][0]["id"]
    visit = client.get(f"/api/visits/{visit_id}", headers=handler).json
    for key in (
        "id",
        "reference",
        "referral_id",
        "status",
        "skills",
        "earliest_start",
        "deadline",
        "assigned_staff_id",
        "planned_start",
        "pinned",
    ):
        assert key in visit
    assert visit["referral_id"] == created["id"] and visit["pinned"] is False
    listed = client.get("/api/visits?status=unassigned", headers=handler).json
    assert [v["id"] for v in listed] == [visit_id]
    assert client.get("/api/visits?status=lost", headers=handler).status_code == 422


def test_needs_spanning_roles_make_one_visit_per_role(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A fall plus a carer breakdown needs a nurse and a hybrid worker: two visits, same window."""
    response = client.post(
        "/api/referrals", json=_body(needs=["fall_no_injury", "carer_breakdown"]), headers=handler
    )
    assert response.status_code == 201, response.json
    visits = [session.get(m.Visit, v["id"]) for v in response.json["visits"]]
    assert len(visits) == 2
    skills = [set(v.skills) for v in visits if v is not None]
    assert set().union(*skills) == set(response.json["disposition"]["skills"])
    assert len({v.deadline for v in visits if v is not None}) == 1


@pytest.mark.safety("H-242")
def test_urgent_reablement_with_medium_news2_is_a_nurse_visit_and_a_reablement_visit(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """H-242: the observations call for a clinical assessment, the need for reablement. No role
    holds both by default (a therapist who may also assess is rare), so one visit needing both
    was refused by every roster and went back to 999. Two 2-hour visits instead: one a nurse
    can make, one a hybrid worker or therapist can."""
    observations = {"respiration_rate": 22, "spo2": 94, "systolic_bp": 130, "pulse": 95,
                    "consciousness": "alert", "temperature": 38.5}  # NEWS2 5: medium
    response = client.post("/api/referrals", json=_body(
        needs=["urgent_reablement"], observations=observations), headers=handler)
    assert response.status_code == 201, response.json
    assert response.json["disposition"]["category"] == "urgent_2h"
    visits = [session.get(m.Visit, v["id"]) for v in response.json["visits"]]
    assert sorted(sorted(v.skills) for v in visits if v is not None) == [
        ["clinical_assessment"], ["reablement"]]
    assert len({v.deadline for v in visits if v is not None}) == 1

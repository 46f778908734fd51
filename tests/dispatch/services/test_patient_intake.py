"""Referral intake safety: the wrong patient (H-001), duplicate referrals (H-002) and NHS
numbers that are not (H-017), through POST /api/referrals, GET /api/patients and
POST /api/referrals/{id}/duplicate-of/{other_id}."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f

RECEIVED = "2026-12-01T10:15:00+00:00"
JOE = {"nhs_number": "943 476 5919", "given_name": "Joe", "family_name": "Bloggs",
       "date_of_birth": "1941-03-02", "address": "1 Wood Lane", "postcode": "W12 7RQ"}


def _body(patient: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "111",
        "referrer": {"name": "A. Handler", "role": "call handler"},
        "received_at": RECEIVED,
        "needs": ["fall_no_injury"],
        "observations": {"respiration_rate": 18, "spo2": 97, "systolic_bp": 130, "pulse": 80,
                         "consciousness": "alert", "temperature": 36.8},
        "patient": patient if patient is not None else dict(JOE),
    }
    body.update(overrides)
    return body


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler", username="ann")


@pytest.fixture
def coordinator(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("coordinator")


def _registered(session: so.Session, **kw: Any) -> m.Patient:
    """Joe Bloggs on the register; the referral's details may disagree with him."""
    patient = f.patient(session, **kw)
    session.commit()
    return patient


def _count(session: so.Session, model: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def _audit(session: so.Session, action: str) -> list[m.AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(m.AuditEvent).where(m.AuditEvent.action == action)))


# --- H-001: wrong patient ----------------------------------------------------------------


@pytest.mark.safety("H-001")
def test_referral_patient_mismatch_names_only_differing_fields(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A known NHS number with another family name and postcode is 409 naming those two fields,
    with the patient's id to confirm, and never the registered values; nothing is logged."""
    joe = _registered(session, family_name="Bloggs", postcode="W12 7RQ", address="1 Wood Lane")
    typed = {**JOE, "family_name": "Smith", "postcode": "SW1A 1AA"}
    response = client.post("/api/referrals", json=_body(typed), headers=handler)
    assert response.status_code == 409, response.json
    data = response.json
    assert data["code"] == "patient_mismatch"
    assert data["fields"] == ["family_name", "postcode"]
    assert data["patient_id"] == joe.id and data["patient_ids"] == [joe.id]
    text = json.dumps(data).lower()
    for stored in ("bloggs", "w12", "wood lane", "joe", "1941"):
        assert stored not in text, stored
    assert _count(session, m.Referral) == 0


@pytest.mark.safety("H-001")
@pytest.mark.parametrize("field, typed", [
    ("family_name", "  BLOGGS "), ("postcode", "w127rq"), ("postcode", " w12  7RQ")])
def test_referral_patient_match_ignores_case_spaces_and_postcode_spacing(
    client: FlaskClient, handler: dict[str, str], session: so.Session, field: str, typed: str
) -> None:
    """Case, spaces and the postcode's spacing are not disagreements: the patient matches."""
    joe = _registered(session)
    response = client.post("/api/referrals", json=_body({**JOE, field: typed}), headers=handler)
    assert response.status_code == 201, response.json
    assert response.json["patient_id"] == joe.id


@pytest.mark.safety("H-001")
def test_referral_patient_mismatch_date_of_birth_alone(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A different date of birth on its own is enough to ask."""
    _registered(session)
    response = client.post("/api/referrals", json=_body({**JOE, "date_of_birth": "1941-02-03"}),
                           headers=handler)
    assert response.status_code == 409 and response.json["fields"] == ["date_of_birth"]


@pytest.mark.safety("H-001")
def test_referral_confirm_patient_id_logs_and_audits_the_confirmation(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Resending with confirm_patient_id logs the referral for that patient and audits who
    confirmed which fields (not the values); a wrong id is still refused."""
    joe = _registered(session)
    typed = {**JOE, "family_name": "Blogs"}
    wrong = client.post("/api/referrals", json=_body(typed, confirm_patient_id=joe.id + 1),
                        headers=handler)
    assert wrong.status_code == 409
    response = client.post("/api/referrals", json=_body(typed, confirm_patient_id=joe.id),
                           headers=handler)
    assert response.status_code == 201, response.json
    assert response.json["patient_id"] == joe.id
    [event] = _audit(session, "confirm_patient_mismatch")
    assert event.username == "ann" and event.patient_id == joe.id
    assert event.details == {"fields": ["family_name"]}
    assert session.get(m.Patient, joe.id).family_name == "Bloggs"  # the register is unchanged


@pytest.mark.safety("H-001")
def test_referral_with_patient_id_and_disagreeing_details_asks(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A patient chosen by id but described differently is asked about too."""
    joe = _registered(session)
    body = _body(patient_id=joe.id)
    body["patient"] = {"family_name": "Jones"}
    response = client.post("/api/referrals", json=body, headers=handler)
    assert response.status_code == 409 and response.json["fields"] == ["family_name"]


@pytest.mark.safety("H-001")
def test_referral_without_nhs_number_registers_patient_not_known(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """No NHS number: the patient is registered with nhs_number_status not_known (flagged for
    tracing), audited, and a search by name and date of birth finds them."""
    typed = {k: v for k, v in JOE.items() if k != "nhs_number"}
    response = client.post("/api/referrals", json=_body(typed), headers=handler)
    assert response.status_code == 201, response.json
    patient = session.get(m.Patient, response.json["patient_id"])
    assert patient is not None and patient.nhs_number is None
    assert patient.nhs_number_status == "not_known"
    assert len(_audit(session, "register_without_nhs_number")) == 1
    found = client.get("/api/patients?family_name=bloggs&date_of_birth=1941-03-02",
                       headers=handler)
    assert found.status_code == 200
    assert [(p["id"], p["nhs_number"], p["nhs_number_status"]) for p in found.json] == [
        (patient.id, None, "not_known")]


@pytest.mark.safety("H-001")
def test_patients_search_by_name_and_date_of_birth_without_postcode(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Family name and date of birth find a patient without the postcode (one who moved)."""
    joe = _registered(session)
    _registered(session, nhs_number="4010232137", date_of_birth=date(1950, 1, 1))
    found = client.get("/api/patients?family_name=Bloggs&date_of_birth=1941-03-02",
                       headers=handler)
    assert found.status_code == 200 and [p["id"] for p in found.json] == [joe.id]
    assert found.json[0]["nhs_number_status"] == "present"


@pytest.mark.safety("H-001")
def test_referral_without_nhs_number_same_name_and_birthday_elsewhere_asks(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Without an NHS number, a registered patient with the same name and date of birth but
    another postcode is never matched silently: 409 naming the postcode; the caller confirms
    him, or says new_patient to register somebody else."""
    joe = _registered(session)
    typed = {k: v for k, v in JOE.items() if k != "nhs_number"} | {"postcode": "SE10 9NF"}
    asked = client.post("/api/referrals", json=_body(typed), headers=handler)
    assert asked.status_code == 409, asked.json
    assert asked.json["fields"] == ["postcode"] and asked.json["patient_ids"] == [joe.id]
    assert "w12" not in json.dumps(asked.json).lower()
    new = client.post("/api/referrals", json=_body(typed, new_patient=True), headers=handler)
    assert new.status_code == 201 and new.json["patient_id"] != joe.id
    same = client.post("/api/referrals", json=_body(typed, confirm_patient_id=joe.id),
                       headers=handler)
    assert same.status_code == 201 and same.json["patient_id"] == joe.id


@pytest.mark.safety("H-001")
def test_referral_without_nhs_number_matches_same_name_birthday_and_postcode(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Name, date of birth and postcode all agreeing is the same person, with no question."""
    joe = _registered(session)
    typed = {k: v for k, v in JOE.items() if k != "nhs_number"} | {"postcode": "w12 7rq"}
    response = client.post("/api/referrals", json=_body(typed), headers=handler)
    assert response.status_code == 201 and response.json["patient_id"] == joe.id


def test_referral_mismatch_is_documented_in_openapi(client: FlaskClient) -> None:
    """The OpenAPI document shows the 409 patient_mismatch, the new request fields and the
    possible_duplicates of the response."""
    spec = client.get("/api/openapi.json").json
    post = spec["paths"]["/api/referrals"]["post"]
    assert "409" in post["responses"]
    schemas = spec["components"]["schemas"]
    assert {"confirm_patient_id", "new_patient"} <= set(schemas["ReferralCreate"]["properties"])
    assert "possible_duplicates" in schemas["Referral"]["properties"]
    assert "fields" in schemas["PatientMismatch"]["properties"]
    assert "/api/referrals/{referral_id}/duplicate-of/{other_id}" in spec["paths"]


# --- H-002: duplicate referrals ------------------------------------------------------------


@pytest.mark.safety("H-002")
def test_referral_response_lists_possible_duplicates(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """The first referral has no possible duplicates; a second call minutes later is still
    logged (it may mean the patient got worse) and lists the first: when, what, status."""
    first = client.post("/api/referrals", json=_body(), headers=handler)
    assert first.status_code == 201 and first.json["possible_duplicates"] == []
    second = client.post("/api/referrals", json=_body(received_at="2026-12-01T10:18:00+00:00"),
                         headers=handler)
    assert second.status_code == 201
    [dup] = second.json["possible_duplicates"]
    assert dup["referral_id"] == first.json["id"]
    assert dup["received_at"].startswith("2026-12-01T10:15")
    assert dup["category"] == "urgent_2h" and dup["status"] == "scheduled"
    assert dup["visits"][0]["reference"] == first.json["visits"][0]["reference"]
    again = client.get(f"/api/referrals/{first.json['id']}", headers=handler)
    assert [d["referral_id"] for d in again.json["possible_duplicates"]] == [second.json["id"]]


@pytest.mark.safety("H-002")
def test_duplicate_of_cancels_open_visits_and_audits(
    client: FlaskClient, handler: dict[str, str], coordinator: dict[str, str],
    session: so.Session,
) -> None:
    """A coordinator marks the second referral a duplicate of the first: its visit is
    cancelled with that reason, the referral is cancelled and says which it duplicates, and
    the first is untouched; a call handler may not do it."""
    first = client.post("/api/referrals", json=_body(), headers=handler).json
    second = client.post("/api/referrals", json=_body(), headers={
        **handler, "Idempotency-Key": "second-call"}).json
    url = f"/api/referrals/{second['id']}/duplicate-of/{first['id']}"
    assert client.post(url, headers=handler).status_code == 403
    response = client.post(url, headers=coordinator)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"
    assert response.json["duplicate_of_id"] == first["id"]
    assert [v["status"] for v in response.json["visits"]] == ["cancelled"]
    session.expire_all()
    assert session.get(m.Referral, first["id"]).status == "scheduled"
    [event] = _audit(session, "mark_duplicate")
    assert event.details["duplicate_of"] == first["id"]
    assert event.details["cancelled_visits"] == [second["visits"][0]["reference"]]
    cancels = _audit(session, "cancel_visit")
    assert [e.entity_id for e in cancels] == [str(second["visits"][0]["id"])]


@pytest.mark.safety("H-002")
def test_duplicate_of_refuses_nonsense(
    client: FlaskClient, handler: dict[str, str], coordinator: dict[str, str],
    session: so.Session,
) -> None:
    """409 for the same id twice, referrals of different patients, and one already closed;
    404 for a referral that does not exist."""
    first = client.post("/api/referrals", json=_body(), headers=handler).json
    other_patient = {**JOE, "nhs_number": "401 023 2137", "family_name": "Other"}
    other = client.post("/api/referrals", json=_body(other_patient), headers=handler).json
    second = client.post("/api/referrals", json=_body(), headers={
        **handler, "Idempotency-Key": "k2"}).json

    def mark(a: int, b: int) -> Any:
        return client.post(f"/api/referrals/{a}/duplicate-of/{b}", headers=coordinator)

    assert mark(first["id"], first["id"]).status_code == 409
    different = mark(other["id"], first["id"])
    assert different.status_code == 409 and "different patients" in different.json["message"]
    assert mark(second["id"], first["id"]).status_code == 200
    closed = mark(second["id"], first["id"])
    assert closed.status_code == 409 and "already closed" in closed.json["message"]
    assert mark(first["id"], second["id"]).status_code == 409  # the other one is closed
    assert mark(first["id"], 999_999).status_code == 404


# --- H-017: NHS numbers and text that are not ---------------------------------------------


@pytest.mark.safety("H-017")
@pytest.mark.parametrize("number", ["0000000000", "000 000 0000", "1111111111", "9999999999"])
def test_referral_placeholder_nhs_number_refused(
    client: FlaskClient, handler: dict[str, str], session: so.Session, number: str
) -> None:
    """A number of one repeated digit passes modulus 11 but is a placeholder: 422, nothing
    stored, so unrelated people never share it."""
    response = client.post("/api/referrals", json=_body({**JOE, "nhs_number": number}),
                           headers=handler)
    assert response.status_code == 422, response.json
    assert "placeholder" in response.json["errors"]["patient.nhs_number"][0]
    assert _count(session, m.Patient) == 0


@pytest.mark.safety("H-017")
@pytest.mark.parametrize("number", ["９４３４７６５９１９", "٩٤٣٤٧٦٥٩١٩", "943 476 59١٩"])
def test_referral_non_ascii_digits_nhs_number_refused(
    client: FlaskClient, handler: dict[str, str], session: so.Session, number: str
) -> None:
    """Full-width or Arabic-Indic digits are refused with a message, never converted (and
    never a 500 from the database's digits check)."""
    response = client.post("/api/referrals", json=_body({**JOE, "nhs_number": number}),
                           headers=handler)
    assert response.status_code == 422, response.json
    assert "0-9" in response.json["errors"]["patient.nhs_number"][0]
    search = client.get("/api/patients", query_string={"nhs_number": number}, headers=handler)
    assert search.status_code == 422


@pytest.mark.safety("H-017")
@pytest.mark.parametrize("where", ["notes", "referrer.name", "patient.family_name",
                                   "patient.address"])
@pytest.mark.parametrize("bad", ["\x00", "\ud800"])
def test_referral_text_with_nul_or_lone_surrogate_is_422(
    client: FlaskClient, handler: dict[str, str], session: so.Session, where: str, bad: str
) -> None:
    """A NUL byte (PostgreSQL cannot store it) or a lone surrogate (no driver can encode it)
    in a referral's text is 422 naming the field, not a 500."""
    body = _body()
    outer, _, inner = where.partition(".")
    if inner:
        body[outer] = {**body[outer], inner: f"Bl{bad}oggs"}
    else:
        body[outer] = f"Bl{bad}oggs"
    raw = json.dumps(body)  # ensure_ascii: the surrogate travels as the escape \ud800
    response = client.post("/api/referrals", data=raw, headers={
        **handler, "Content-Type": "application/json"})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    # Refused before the view by dispatch/input_guard.py (every JSON body), naming the place;
    # the referral schema's Text fields refuse the same characters for any other caller.
    assert outer in json.dumps(response.json["errors"])
    assert _count(session, m.Referral) == 0


@pytest.mark.safety("H-030")
def test_nhs_number_given_for_a_patient_registered_without_one_asks_first(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Joe was registered without a number. A later referral gives his name, date of birth
    and a number nobody has: 409 naming him, not a second Joe; confirmed, the number is
    recorded on him (audited); a different person is registered with new_patient."""
    untraced = _registered(session, nhs_number=None, nhs_number_status="not_known")
    asked = client.post("/api/referrals", json=_body(), headers=handler)
    assert asked.status_code == 409, asked.json
    assert asked.json["patient_ids"] == [untraced.id]
    assert "registered without an NHS number" in asked.json["message"]
    assert _count(session, m.Patient) == 1

    confirmed = client.post("/api/referrals", json=_body(confirm_patient_id=untraced.id),
                            headers=handler)
    assert confirmed.status_code == 201, confirmed.json
    assert confirmed.json["patient_id"] == untraced.id
    session.expire_all()
    traced = session.get(m.Patient, untraced.id)
    assert traced is not None
    assert (traced.nhs_number, traced.nhs_number_status) == ("9434765919", "present")
    assert len(_audit(session, "record_nhs_number")) == 1

    other = _registered(session, nhs_number=None, nhs_number_status="not_known",
                        given_name="Joan")
    someone_else = dict(JOE, nhs_number="4010232137", given_name="Joan")
    asked_again = client.post("/api/referrals", json=_body(someone_else), headers=handler)
    assert asked_again.status_code == 409 and asked_again.json["patient_ids"] == [other.id]
    new = client.post("/api/referrals", json=_body(someone_else, new_patient=True),
                      headers=handler)
    assert new.status_code == 201 and new.json["patient_id"] not in (other.id, untraced.id)

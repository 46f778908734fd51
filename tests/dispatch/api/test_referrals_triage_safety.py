"""Issue 13's triage controls through the API, the web read-back, FHIR's Task and the CLI.

H-003: an empty referral is 422 with a message; every disposition carries safety netting,
stored on the referral and returned at the top level. H-004: a child is out_of_scope, no visit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from dispatch.fhir.task import task_status
from tests.dispatch import factories as f
from tests.dispatch.fhir.test_fhir import _fixture, _post, _task
from tests.dispatch.web.test_web_support import patient_with_plan, referral_form, signed_in_client
from triage import RED_FLAGS

RECEIVED = "2026-12-01T10:15:00+00:00"
ALL_NO = {code: "no" for code in RED_FLAGS}


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "111",
        "referrer": {"name": "A. Handler", "role": "call handler", "organisation": "NHS 111"},
        "received_at": RECEIVED,
        "needs": ["fall_no_injury"],
        "red_flag_answers": ALL_NO,
        "patient": {
            "nhs_number": "943 476 5919", "given_name": "Joe", "family_name": "Bloggs",
            "date_of_birth": "1941-03-02", "address": "1 Wood Lane", "postcode": "w12 7rq",
        },
    }
    body.update(overrides)
    return body


def _child(**overrides: Any) -> dict[str, Any]:
    """A 10-year-old (born 2016) with respiration 40 and pulse 150: issue 13's case."""
    patient = {"nhs_number": "943 476 5870", "given_name": "Amy", "family_name": "Smith",
               "date_of_birth": "2016-05-04", "address": "2 Wood Lane", "postcode": "W12 7RQ"}
    fields: dict[str, Any] = {"patient": patient, "needs": [],
                              "observations": {"respiration_rate": 40, "pulse": 150}}
    return _body(**{**fields, **overrides})


@pytest.fixture
def handler(token_for: Callable[..., dict[str, str]]) -> dict[str, str]:
    return token_for("call_handler")


def _count(session: so.Session, model: type) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


# --- H-003 --------------------------------------------------------------------------------------


@pytest.mark.safety("H-003")
def test_post_referral_with_nothing_to_triage_is_422_with_message(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """No needs, no red-flag answer (only "not asked") and no observations: 422, nothing stored."""
    body = _body(needs=[], red_flag_answers={"chest_pain": "not_asked"})

    response = client.post("/api/referrals", json=body, headers=handler)

    assert response.status_code == 422, response.json
    assert response.json["message"].startswith("Incomplete screening: nothing to triage.")
    assert "needs, red_flag_answers, observations" in response.json["message"]
    assert set(response.json["errors"]) == {"needs", "red_flag_answers", "observations"}
    assert _count(session, m.Referral) == 0 and _count(session, m.Visit) == 0


@pytest.mark.safety("H-003")
def test_post_referral_returns_and_stores_safety_netting(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """safety_netting is at the top level and in the disposition, stored, and read back by GET."""
    response = client.post("/api/referrals", json=_body(), headers=handler)

    assert response.status_code == 201, response.json
    data = response.json
    advice = data["safety_netting"]
    assert "call 999 straight away" in advice and "call 111" in advice
    assert "a possible broken bone" in advice  # a fall names the fracture sign
    assert data["disposition"]["safety_netting"] == advice
    referral = session.get(m.Referral, data["id"])
    assert referral is not None and referral.disposition is not None
    assert referral.disposition["safety_netting"] == advice
    assert referral.red_flag_answers == ALL_NO
    again = client.get(f"/api/referrals/{data['id']}", headers=handler).json
    assert again["safety_netting"] == advice


@pytest.mark.safety("H-003")
def test_post_referral_red_flag_yes_answer_is_999(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A yes in red_flag_answers sends to 999 with no visit; the flag is stored as a red flag."""
    body = _body(red_flag_answers={**ALL_NO, "chest_pain": "yes"})

    data = client.post("/api/referrals", json=body, headers=handler).json

    assert (data["category"], data["status"], data["visits"]) == ("emergency_999",
                                                                   "sent_to_999", [])
    assert "While you wait for the ambulance" in data["safety_netting"]
    referral = session.get(m.Referral, data["id"])
    assert referral is not None and referral.red_flags == ["chest_pain"]


def test_post_referral_bad_red_flag_answer_is_422_on_its_field(
    client: FlaskClient, handler: dict[str, str]
) -> None:
    """An answer other than yes, no or not_asked names the question."""
    response = client.post("/api/referrals", json=_body(red_flag_answers={"seizure": "maybe"}),
                           headers=handler)

    assert response.status_code == 422
    assert "red_flag_answers.seizure" in response.json["errors"]["json"]


@pytest.mark.safety("H-003")
def test_web_disposition_read_back_ends_with_safety_netting(
    app: Flask, session: so.Session
) -> None:
    """The handler's disposition page shows the advice to read back to the caller."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(patient.id))
    html = client.get(response.headers["Location"]).get_data(as_text=True)

    referral = session.scalars(sa.select(m.Referral)).one()
    assert referral.disposition is not None
    assert 'id="safety-netting"' in html
    assert referral.disposition["safety_netting"].replace("'", "&#39;") in html
    assert html.index('id="safety-netting"') < html.index('id="reasons-heading"')


# --- H-004 --------------------------------------------------------------------------------------


@pytest.mark.safety("H-004")
def test_post_referral_child_is_out_of_scope_with_no_visit(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A 10-year-old with respiration 40 and pulse 150: out_of_scope, no visit, pathway named."""
    response = client.post("/api/referrals", json=_child(), headers=handler)

    assert response.status_code == 201, response.json
    data = response.json
    assert (data["category"], data["status"], data["visits"]) == ("out_of_scope",
                                                                   "out_of_scope", [])
    assert data["deadline"] is None
    assert "children's pathway" in data["disposition"]["reasons"][0]
    assert "the child" in data["safety_netting"]
    assert _count(session, m.Visit) == 0
    referral = session.get(m.Referral, data["id"])
    assert referral is not None and referral.category == "out_of_scope"


@pytest.mark.safety("H-004")
def test_post_referral_child_with_ucr_need_is_still_out_of_scope(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """Even a fall (a two-hour UCR need) makes no visit for a child."""
    data = client.post("/api/referrals", json=_child(needs=["fall_no_injury"]),
                       headers=handler).json

    assert (data["category"], data["visits"]) == ("out_of_scope", [])
    assert _count(session, m.Visit) == 0


@pytest.mark.safety("H-004")
def test_post_referral_child_with_red_flag_is_999(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A red flag still means 999 for a child."""
    data = client.post("/api/referrals",
                       json=_child(red_flag_answers={**ALL_NO, "severe_breathlessness": "yes"}),
                       headers=handler).json

    assert (data["category"], data["status"]) == ("emergency_999", "sent_to_999")


@pytest.mark.safety("H-004")
def test_registered_child_age_comes_from_the_register(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A referral by patient_id uses the registered date of birth: a registered 17-year-old."""
    patient = f.patient(session, nhs_number="9434765870", date_of_birth=date(2009, 6, 1))
    session.commit()
    body = _body(patient_id=patient.id)
    del body["patient"]

    data = client.post("/api/referrals", json=body, headers=handler).json

    assert data["category"] == "out_of_scope"


@pytest.mark.safety("H-004")
def test_web_child_referral_page_says_out_of_scope_and_no_visit(
    app: Flask, session: so.Session
) -> None:
    """The handler's read-back for a child: the children's pathway, no visit, the child's signs."""
    patient = patient_with_plan(session, consent=True, date_of_birth=date(2016, 5, 4))
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(patient.id))
    html = client.get(response.headers["Location"]).get_data(as_text=True)

    referral = session.scalars(sa.select(m.Referral)).one()
    assert (referral.status, referral.visits) == ("out_of_scope", [])
    assert 'id="out-of-scope"' in html and "No visit: this service is for adults." in html
    assert "children&#39;s pathway" in html
    assert "Visit reference" not in html
    assert "Call 999 straight away if the child" in html


@pytest.mark.safety("H-004")
def test_fhir_task_for_out_of_scope_is_rejected_with_the_pathway() -> None:
    """The referrer's Task says rejected, with the children's pathway as the reason."""
    status, reason = task_status("out_of_scope", None)

    assert status == "rejected"
    assert reason is not None and "children's pathway" in reason and "999" in reason


@pytest.mark.safety("H-004")
def test_fhir_referral_for_a_child_is_rejected_without_a_visit(
    client: FlaskClient, handler: dict[str, str], session: so.Session
) -> None:
    """A BaRS referral whose patient is 10 gets a rejected Task naming the children's pathway."""
    network = f.network(session)
    f.base(session, network_id=network.id)
    session.commit()
    bundle = _fixture("referral_111_fall.json")
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["birthDate"] = "2016-05-04"

    response = _post(client, handler, bundle)

    assert response.status_code == 200, response.get_data(as_text=True)
    task = _task(response)
    assert task["status"] == "rejected"
    assert "children's pathway" in task["statusReason"]["text"]
    referral = session.scalars(sa.select(m.Referral)).one()
    assert (referral.status, referral.visits) == ("out_of_scope", [])


def test_openapi_shows_out_of_scope_safety_netting_and_red_flag_answers(
    client: FlaskClient,
) -> None:
    """The published contract names the new category, the advice and the answers object."""
    spec = client.get("/api/openapi.json").json
    schemas = spec["components"]["schemas"]
    referral = schemas["Referral"]["properties"]
    disposition = schemas["Disposition"]["properties"]
    create = schemas["ReferralCreate"]["properties"]

    assert "out_of_scope" in referral["category"]["enum"]
    assert "out_of_scope" in disposition["category"]["enum"]
    assert "safety_netting" in referral and "safety_netting" in disposition
    assert create["red_flag_answers"]["properties"]["chest_pain"]["enum"] == [
        "yes", "no", "not_asked"]


# --- CLI ----------------------------------------------------------------------------------------


@pytest.mark.safety("H-003")
def test_cli_triage_empty_referral_exits_non_zero_naming_what_is_missing(tmp_path: Path) -> None:
    """`dispatch triage FILE` refuses nothing to triage with the missing fields, exit non-zero."""
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"received_at": RECEIVED}))

    result = CliRunner().invoke(main, ["triage", str(path)])

    assert result.exit_code != 0
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "red_flag_answers" in output and "needs" in output and "observations" in output


@pytest.mark.safety("H-004")
def test_cli_triage_child_prints_out_of_scope_and_safety_netting(tmp_path: Path) -> None:
    """The CLI prints the same JSON shape: out_of_scope with safety_netting for a child."""
    path = tmp_path / "child.json"
    path.write_text(json.dumps({"received_at": RECEIVED, "age_years": 10,
                                "observations": {"respiration_rate": 40, "pulse": 150}}))

    result = CliRunner().invoke(main, ["triage", str(path)])

    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["category"] == "out_of_scope" and out["safety_netting"]

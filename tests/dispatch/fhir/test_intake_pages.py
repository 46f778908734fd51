"""Referral intake safety on the other ways in: FHIR messages (an OperationOutcome for a
patient mismatch) and the call handler's page (the mismatch asked about, open referrals
warned of), hazards H-001 and H-002."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.operationoutcome import OperationOutcome
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import (
    audit_actions,
    patient_with_plan,
    referral_form,
    signed_in_client,
)

FIXTURES = Path(__file__).parents[1] / "fhir_fixtures"


def _referrals(session: so.Session) -> list[m.Referral]:
    session.expire_all()
    return list(session.scalars(sa.select(m.Referral).order_by(m.Referral.id)))


def _fall_message(**patient: Any) -> dict[str, Any]:
    """The 111 fall message with its Patient changed."""
    body: dict[str, Any] = json.loads((FIXTURES / "referral_111_fall.json").read_text())
    resource = body["entry"][2]["resource"]
    assert resource["resourceType"] == "Patient"
    resource.update(patient)
    return body


@pytest.mark.safety("H-001")
def test_fhir_patient_mismatch_answers_operation_outcome(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A message whose NHS number is a registered patient with another family name and date
    of birth makes no referral: 409 OperationOutcome (business-rule) naming the fields and
    pointing at the Patient, never the registered values."""
    f.patient(session, family_name="Bloggs")
    session.commit()
    body = _fall_message(name=[{"use": "official", "family": "Smith", "given": ["Joe"]}],
                         birthDate="1950-01-01")
    response = client.post("/fhir/$process-message", data=json.dumps(body), headers={
        **token_for("call_handler"), "Content-Type": "application/fhir+json"})
    assert response.status_code == 409, response.get_data(as_text=True)
    outcome = OperationOutcome.model_validate(response.get_json())
    [issue] = outcome.issue
    assert issue.code == "business-rule"
    assert "patient_mismatch" in issue.diagnostics
    assert "family_name" in issue.diagnostics and "date_of_birth" in issue.diagnostics
    assert "Bloggs" not in issue.diagnostics and "1941" not in issue.diagnostics
    assert issue.expression == ["Bundle.entry[2].resource"]
    assert _referrals(session) == []


@pytest.mark.safety("H-001")
def test_web_referral_mismatch_asks_then_logs_when_confirmed(
    app: Flask, session: so.Session
) -> None:
    """Registering with a known NHS number but another family name shows the mismatch
    (the field, not the registered name) and logs nothing; choosing "the same person" logs
    the referral for the registered patient, audited."""
    joe = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(None, nhs_number="943 476 5919", given_name="Joe", family_name="Smith",
                         dob_day="2", dob_month="3", dob_year="1941", address="1 Wood Lane",
                         postcode="W12 7RQ")
    html = client.post("/referrals/new", data=form).get_data(as_text=True)
    assert 'id="patient-mismatch"' in html and 'id="mismatch-fields">family name<' in html
    assert "Bloggs" not in html and "BLOGGS" not in html
    assert f'value="same:{joe.id}"' in html
    assert _referrals(session) == []
    confirmed = client.post("/referrals/new", data={**form, "patient_decision": f"same:{joe.id}"})
    assert confirmed.status_code == 303, confirmed.get_data(as_text=True)[:500]
    [referral] = _referrals(session)
    assert referral.patient_id == joe.id
    assert "confirm_patient_mismatch" in audit_actions(session, patient_id=joe.id)


@pytest.mark.safety("H-001")
def test_web_register_without_nhs_number_flags_for_tracing(
    app: Flask, session: so.Session
) -> None:
    """A patient registered on the page without an NHS number is logged, and the pages say
    the number is not known and the patient is flagged for tracing."""
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(None, given_name="Ada", family_name="Lovelace", dob_day="10",
                         dob_month="12", dob_year="1940", address="2 Wood Lane",
                         postcode="W12 7RQ")
    made = client.post("/referrals/new", data=form)
    assert made.status_code == 303, made.get_data(as_text=True)[:500]
    [referral] = _referrals(session)
    patient = session.get(m.Patient, referral.patient_id)
    assert patient is not None and patient.nhs_number_status == "not_known"
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "NHS number not known (flagged for tracing)" in page
    selected = client.get(f"/referrals/new?patient={patient.id}").get_data(as_text=True)
    assert "Not known: flagged for tracing" in selected


@pytest.mark.safety("H-001")
def test_web_register_same_name_and_birthday_elsewhere_asks(
    app: Flask, session: so.Session
) -> None:
    """Without an NHS number, the same name and date of birth at another postcode is asked
    about on the page, offering "somebody else", which registers a new patient."""
    joe = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(None, given_name="Joe", family_name="Bloggs", dob_day="2",
                         dob_month="3", dob_year="1941", address="9 Park Row",
                         postcode="SE10 9NF")
    html = client.post("/referrals/new", data=form).get_data(as_text=True)
    assert 'id="mismatch-fields">postcode<' in html and 'id="decision-new"' in html
    assert _referrals(session) == []
    client.post("/referrals/new", data={**form, "patient_decision": "new"})
    [referral] = _referrals(session)
    assert referral.patient_id != joe.id


@pytest.mark.safety("H-002")
def test_web_selected_patient_with_open_referral_shows_duplicate_warning(
    app: Flask, session: so.Session
) -> None:
    """Selecting a patient with an open referral warns before logging another: when it came,
    what it is and its visit; the result page of the second repeats the warning."""
    joe = patient_with_plan(session, consent=True)
    earlier = f.referral(session, joe.id, status="scheduled")
    f.visit(session, earlier.id, joe.id, status="unassigned",
            deadline=f.NOW + timedelta(hours=2))
    session.commit()
    client = signed_in_client(app, session, "call_handler")
    html = client.get(f"/referrals/new?patient={joe.id}").get_data(as_text=True)
    assert 'id="possible-duplicates"' in html
    assert f"Referral {earlier.id}</a>" in html and "09:00 on Tuesday 1 December 2026" in html
    assert "Visit 4821 unassigned" in html
    made = client.post("/referrals/new", data=referral_form(joe.id))
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="possible-duplicates"' in page and f"Referral {earlier.id}</a>" in page


def test_web_selected_patient_without_open_referral_has_no_warning(
    app: Flask, session: so.Session
) -> None:
    """No open referral, no warning (a closed one is not a duplicate)."""
    joe = patient_with_plan(session, consent=True)
    f.referral(session, joe.id, status="signposted", category="signpost", deadline=None)
    session.commit()
    client = signed_in_client(app, session, "call_handler")
    html = client.get(f"/referrals/new?patient={joe.id}").get_data(as_text=True)
    assert 'id="possible-duplicates"' not in html


@pytest.mark.safety("H-017")
def test_web_referral_notes_with_nul_is_an_error_not_500(
    app: Flask, session: so.Session
) -> None:
    """A NUL byte typed (or pasted) into the notes is a 400 page naming the field (refused
    before the view by dispatch/input_guard.py), never a 500, and nothing is logged."""
    joe = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(joe.id, notes="key\x00safe"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "notes" in html and "NUL character" in html
    assert _referrals(session) == []


@pytest.mark.safety("H-017")
def test_web_find_patient_with_nul_is_an_error_not_500(app: Flask, session: so.Session) -> None:
    """A NUL byte in the find form's family name is an error on the field (PostgreSQL cannot
    even compare with it)."""
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new/find", data={
        "family_name": "Blo\x00ggs", "dob_day": "2", "dob_month": "3", "dob_year": "1941"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "family_name" in html and "NUL character" in html


@pytest.mark.safety("H-030")
def test_web_nhs_number_for_a_patient_registered_without_one_asks_then_records_it(
    app: Flask, session: so.Session
) -> None:
    """The form asks about a patient registered without an NHS number who has the name and
    date of birth typed (offering "same" and "somebody else"); "same" records the number on
    them and logs the referral for them."""
    joe = f.patient(session, nhs_number=None, nhs_number_status="not_known")
    session.commit()
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(None, nhs_number="943 476 5919", given_name="Joe",
                         family_name="Bloggs", dob_day="2", dob_month="3", dob_year="1941",
                         address="1 Wood Lane", postcode="W12 7RQ")
    html = client.post("/referrals/new", data=form).get_data(as_text=True)
    assert "registered without an NHS number has the same name" in html
    assert f'id="decision-same-{joe.id}"' in html and 'id="decision-new"' in html
    assert _referrals(session) == []
    client.post("/referrals/new", data={**form, "patient_decision": f"same:{joe.id}"})
    [referral] = _referrals(session)
    session.expire_all()
    assert referral.patient_id == joe.id
    assert session.get(m.Patient, joe.id).nhs_number == "9434765919"  # type: ignore[union-attr]


@pytest.mark.safety("H-031")
def test_web_registration_matching_a_patient_with_an_open_referral_warns_before_logging(
    app: Flask, session: so.Session
) -> None:
    """Typing in the details of a registered patient who has an open referral stops before
    logging and shows that referral and its visit; logging again logs it (once)."""
    joe = patient_with_plan(session, consent=True)
    earlier = f.referral(session, joe.id, status="scheduled")
    f.visit(session, earlier.id, joe.id, status="unassigned", deadline=f.NOW + timedelta(hours=2))
    session.commit()
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(None, nhs_number="943 476 5919", given_name="Joe",
                         family_name="Bloggs", dob_day="2", dob_month="3", dob_year="1941",
                         address="1 Wood Lane", postcode="W12 7RQ")
    html = client.post("/referrals/new", data=form).get_data(as_text=True)
    assert 'id="possible-duplicates"' in html and f"Referral {earlier.id}</a>" in html
    assert "Visit 4821 unassigned" in html and 'href="#possible-duplicates"' in html
    assert f'name="duplicate_seen" type="hidden" value="{joe.id}"' in html
    assert [r.id for r in _referrals(session)] == [earlier.id]

    made = client.post("/referrals/new", data={**form, "duplicate_seen": str(joe.id)})
    assert made.status_code == 303
    assert len(_referrals(session)) == 2

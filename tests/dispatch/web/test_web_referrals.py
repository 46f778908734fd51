"""The call handler's page: find the patient, see the care plan where allowed, log the
referral and read back the disposition; bad input gets the NHS error summary."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import (
    audit_actions,
    patient_with_plan,
    referral_form,
    signed_in_client,
)


def _referrals(session: so.Session) -> list[m.Referral]:
    session.expire_all()
    return list(session.scalars(sa.select(m.Referral).order_by(m.Referral.id)))


def test_find_patient_by_nhs_number_with_spaces(app: Flask, session: so.Session) -> None:
    """An NHS number typed with spaces finds the patient, with a link to select them."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new/find", data={"nhs_number": "943 476 5919"}).get_data(
        as_text=True)
    assert f'href="/referrals/new?patient={patient.id}"' in html
    assert "943 476 5919" in html and "BLOGGS" in html
    assert audit_actions(session, patient_id=patient.id) == ["search_patient"]


@pytest.mark.safety("H-001")
def test_find_patient_by_name_and_date_of_birth_without_postcode(
    app: Flask, session: so.Session
) -> None:
    """Without an NHS number, family name and date of birth are asked for; the postcode is
    optional, so a caller who does not know it (or a patient who moved) still finds them."""
    patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    partial = client.post("/referrals/new/find", data={"family_name": "Bloggs"})
    html = partial.get_data(as_text=True)
    assert "Enter the date of birth" in html and 'href="#find-dob-day"' in html
    assert "Enter the postcode" not in html
    without_postcode = client.post("/referrals/new/find", data={
        "family_name": " bloggs ", "dob_day": "2", "dob_month": "3", "dob_year": "1941"}
    ).get_data(as_text=True)
    assert "1 patient found" in without_postcode
    full = client.post("/referrals/new/find", data={
        "family_name": "bloggs", "dob_day": "2", "dob_month": "3", "dob_year": "1941",
        "postcode": "w12 7rq"}).get_data(as_text=True)
    assert "1 patient found" in full


@pytest.mark.safety("H-160")
@pytest.mark.parametrize(("name", "found"), [
    ("Joe Bloggs", True), ("  joe   BLOGGS ", True), ("Bloggs", True), ("Jo Bloggs", False),
    ("Joe Smith", False)])
def test_find_patient_by_full_name_and_date_of_birth(
    app: Flask, session: so.Session, name: str, found: bool
) -> None:
    """A caller gives the name as they say it: "Joe Bloggs" (given then family name, any case
    and spacing) or the family name alone; part of a given name is not a match."""
    patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new/find", data={
        "family_name": name, "dob_day": "2", "dob_month": "3", "dob_year": "1941"}
    ).get_data(as_text=True)
    assert ("1 patient found" in html) is found
    if not found:  # the register form is offered, filled with the name as given and family
        assert f'value="{name.split()[-1]}"' in html


def test_find_patient_invalid_nhs_number_shows_error_summary(
    app: Flask, session: so.Session
) -> None:
    """A number failing the check digit is named in the summary, linked to the field."""
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new/find", data={"nhs_number": "943 476 5918"}).get_data(
        as_text=True)
    assert "nhsuk-error-summary" in html and 'href="#find-nhs-number"' in html
    assert "NHS number" in html and "nhsuk-form-group--error" in html
    assert 'value="943 476 5918"' in html  # the value is kept


def test_find_patient_no_match_offers_registration(app: Flask, session: so.Session) -> None:
    """No match shows the referral form in register mode, filled with what was typed."""
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new/find", data={
        "family_name": "Nobody", "dob_day": "1", "dob_month": "1", "dob_year": "1940",
        "postcode": "W12 7RQ"}).get_data(as_text=True)
    assert "No patient matches" in html and "Register a new patient" in html
    assert 'value="Nobody"' in html


def test_selected_patient_summary_and_consented_care_plan(
    app: Flask, session: so.Session
) -> None:
    """With consent the care plan's latest version is shown, and both reads are audited."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    html = client.get(f"/referrals/new?patient={patient.id}").get_data(as_text=True)
    assert "943 476 5919" in html and "very high" in html
    assert "6 - living with moderate frailty" in html
    assert "Lives alone; key safe 1234" in html and "old plan" not in html
    assert audit_actions(session, patient_id=patient.id) == ["view_patient", "view_care_plan"]


def test_care_plan_hidden_without_consent(app: Flask, session: so.Session) -> None:
    """Without consent the plan stays hidden; an emergency override form is offered."""
    patient = patient_with_plan(session, consent=False)
    client = signed_in_client(app, session, "call_handler")
    html = client.get(f"/referrals/new?patient={patient.id}").get_data(as_text=True)
    assert "No recorded consent to share the care plan" in html
    assert "key safe" not in html
    assert "View in an emergency" in html
    assert "view_care_plan" not in audit_actions(session, patient_id=patient.id)


def test_care_plan_override_with_reason_is_shown_and_audited(
    app: Flask, session: so.Session
) -> None:
    """An emergency purpose and reason show the plan and log both as the purpose."""
    patient = patient_with_plan(session, consent=False)
    client = signed_in_client(app, session, "call_handler")
    reason = "Caller reports collapse; need escalation plan"
    html = client.post("/referrals/new/care-plan", data={
        "patient_id": str(patient.id), "purpose": "risk_to_life",
        "reason": reason}).get_data(as_text=True)
    assert "Lives alone; key safe 1234" in html and "Emergency access without consent" in html
    session.expire_all()
    event = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "care_plan_override", m.AuditEvent.patient_id == patient.id)).one()
    assert event.purpose == f"Immediate risk to life: {reason}"
    assert event.details == {"basis": "emergency_override", "override_purpose": "risk_to_life",
                             "override_text": reason}


def test_care_plan_override_short_reason_refused(app: Flask, session: so.Session) -> None:
    """A token reason is refused with an inline error; nothing is read."""
    patient = patient_with_plan(session, consent=False)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new/care-plan", data={
        "patient_id": str(patient.id), "purpose": "safeguarding", "reason": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "key safe" not in html
    assert "at least 10 characters" in html and 'href="#reason"' in html
    assert "care_plan_override" not in audit_actions(session, patient_id=patient.id)


def test_submit_referral_creates_it_and_shows_the_disposition(
    app: Flask, session: so.Session
) -> None:
    """A fall without injury at 10:15 is an urgent 2-hour response due at 12:15 London time."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(patient.id))
    assert response.status_code == 303
    [referral] = _referrals(session)
    assert response.headers["Location"] == f"/referrals/{referral.id}"
    assert referral.category == "urgent_2h" and referral.created_by.startswith("call_handler")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Urgent community response within 2 hours" in html
    assert "12:15 on Tuesday 1 December 2026" in html
    assert "nhsuk-card--care--urgent" in html and 'id="emergency"' not in html
    summary, *reasons = referral.disposition["reasons"]  # type: ignore[index]
    for reason in reasons:
        assert html.count(reason.replace("'", "&#39;")) == 1, reason
    assert summary not in html  # the card says it: category and deadline
    assert "Total <strong>0</strong>" in html


@pytest.mark.safety("H-161")
@pytest.mark.parametrize("red_flags", [[], ["chest_pain"]], ids=["urgent", "999"])
def test_read_back_says_each_reason_once(
    app: Flask, session: so.Session, red_flags: list[str]
) -> None:
    """The read-back names every reason once: a 999 disposition's reasons for 999 are in the
    red card and only the others under "Why" (they used to be listed twice)."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(
        patient.id, red_flags=red_flags, needs=["fall_no_injury", "sudden_confusion"]))
    [referral] = _referrals(session)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    for reason in referral.disposition["reasons"][1:]:  # type: ignore[index]
        assert html.count(reason.replace("'", "&#39;")) == 1, reason
    if red_flags:
        card = html[html.index('id="emergency"'):html.index("</ul>", html.index('id="emergency"'))]
        assert "Chest pain may be a heart attack" in card


def test_double_submit_makes_one_referral(app: Flask, session: so.Session) -> None:
    """The hidden form token is the idempotency key: a second click shows the same result."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(patient.id)
    first = client.post("/referrals/new", data=form)
    second = client.post("/referrals/new", data=form)
    assert len(_referrals(session)) == 1
    assert first.headers["Location"] == second.headers["Location"]


def test_bad_input_shows_error_summary_and_keeps_values(app: Flask, session: so.Session) -> None:
    """Out-of-range and non-numeric observations are listed, linked and kept as typed."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(
        patient.id, spo2="101", pulse="fast", referrer_name=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _referrals(session) == []
    assert "There is a problem" in html and "<title>Error:" in html
    assert 'href="#spo2"' in html and 'href="#pulse"' in html and 'href="#referrer_name"' in html
    assert "SpO2 must be between 0 and 100" in html
    assert "Enter the pulse as a whole number" in html
    assert 'value="101"' in html and 'value="fast"' in html
    assert re.search(r'value="fall_no_injury"\s+checked', html)


def test_domain_errors_from_triage_reach_the_field(app: Flask, session: so.Session) -> None:
    """A rule only triage knows (a Pathways code's shape) comes back on its own field."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new", data=referral_form(
        patient.id, pathways_disposition="X05")).get_data(as_text=True)
    assert 'href="#pathways_disposition"' in html
    assert "NHS Pathways disposition must be an NHS Pathways disposition code" in html


def test_chest_pain_shows_the_999_card(app: Flask, session: so.Session) -> None:
    """A red flag puts an unmissable 'Call 999 now' alert at the top of the result."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(
        patient.id, red_flags=["chest_pain"]))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    card = html.index('id="emergency"')
    assert html.index("<h1") > card  # above everything else on the page
    assert 'role="alert"' in html[card - 200:card + 200]
    assert "nhsuk-card--care--emergency" in html and "Call 999 now" in html
    assert "Chest pain may be a heart attack: call 999 now." in html
    assert _referrals(session)[0].status == "sent_to_999"


@pytest.mark.safety("H-003")
def test_referral_form_refuses_unanswered_red_flag_questions(
    app: Flask, session: so.Session
) -> None:
    """A red-flag question left blank stops the form (a skipped question is never read as
    "no"): each unanswered one is named and linked, the answers given are kept, nothing is
    logged."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    form = referral_form(patient.id, red_flags=["seizure"])
    del form["red_flag__chest_pain"], form["red_flag__sepsis_suspected"]
    response = client.post("/referrals/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and _referrals(session) == []
    assert "Answer &#39;Chest pain&#39;: yes, no or not asked" in html
    assert "Answer &#39;Suspected sepsis&#39;: yes, no or not asked" in html
    assert 'href="#red_flag__chest_pain"' in html
    assert "Answer &#39;Seizure&#39;" not in html
    assert re.search(r'name="red_flag__seizure"[^>]*value="yes"[^>]*checked', html)


@pytest.mark.safety("H-003")
def test_referral_form_sends_each_red_flag_answer(app: Flask, session: so.Session) -> None:
    """Every question's answer reaches triage and the referral: "not asked" is recorded as
    such (and named in the reasons), a "yes" sends the patient to 999."""
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(
        patient.id, red_flag__anaphylaxis="not_asked"))
    assert response.status_code == 303
    [referral] = _referrals(session)
    assert referral.red_flag_answers is not None
    assert referral.red_flag_answers["anaphylaxis"] == "not_asked"
    assert referral.red_flag_answers["chest_pain"] == "no"
    assert referral.category == "urgent_2h"
    assert any("Anaphylaxis" in r or "anaphylaxis" in r
               for r in referral.disposition["reasons"])  # type: ignore[index]


def test_register_new_patient_with_the_referral(app: Flask, session: so.Session) -> None:
    """A patient not on the register is created from the form's details."""
    f.network(session)
    f.base(session, network_id=session.scalars(sa.select(m.Network.id)).first())
    session.commit()
    client = signed_in_client(app, session, "call_handler")
    response = client.post("/referrals/new", data=referral_form(
        None, nhs_number="401 023 2137", given_name="Ada", family_name="Lovelace",
        dob_day="10", dob_month="12", dob_year="1935", address="2 Wood Lane",
        postcode="w12 7rq"))
    assert response.status_code == 303, response.get_data(as_text=True)[-3000:]
    [referral] = _referrals(session)
    registered = session.get(m.Patient, referral.patient_id)
    assert registered is not None and registered.family_name == "Lovelace"
    assert registered.postcode == "W12 7RQ"


def test_register_new_patient_missing_details(app: Flask, session: so.Session) -> None:
    """Registering without the required details names each missing field (the NHS number is
    not one of them: a patient may be registered without it, flagged for tracing)."""
    client = signed_in_client(app, session, "call_handler")
    html = client.post("/referrals/new", data=referral_form(
        None, given_name="Ada")).get_data(as_text=True)
    assert _referrals(session) == []
    for field in ("family_name", "dob_day", "address", "postcode"):
        assert f'href="#{field}"' in html, field
    assert 'href="#nhs_number"' not in html


def test_field_staff_may_not_open_the_handler_page(app: Flask, session: so.Session) -> None:
    """The permission table applies to pages: field staff get 403."""
    client = signed_in_client(app, session, "field_staff")
    assert client.get("/referrals/new").status_code == 403


def test_unknown_referral_is_an_html_404(app: Flask, session: so.Session) -> None:
    """A missing referral gets the NHS-styled 'Page not found', not JSON."""
    client = signed_in_client(app, session, "call_handler")
    response = client.get("/referrals/999999")
    assert response.status_code == 404 and "Page not found" in response.get_data(as_text=True)

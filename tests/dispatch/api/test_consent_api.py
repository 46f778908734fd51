"""Consent to share the care plan by API, as on the consent page (issue 16)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import audit_actions

Auth = Callable[..., dict[str, str]]


def test_consent_recorded_read_and_withdrawn_by_api(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Given, then withdrawn: each decision is kept with who recorded it; twice is 409; the
    care plan follows the decision; every step is audited."""
    joe = f.patient(session)
    session.commit()
    headers = token_for("coordinator", username="cora")
    given = client.post(f"/api/patients/{joe.id}/consents",
                        json={"decision": "given", "given_by": "patient"}, headers=headers)
    assert given.status_code == 201, given.json
    assert given.json["consent_to_share"] and given.json["recorded_by"] == "cora"
    assert client.post(f"/api/patients/{joe.id}/consents",
                       json={"decision": "given", "given_by": "patient"},
                       headers=headers).status_code == 409
    assert client.get(f"/api/patients/{joe.id}/care-plan",
                      headers=headers).status_code == 200
    withdrawn = client.post(f"/api/patients/{joe.id}/consents",
                            json={"decision": "withdrawn", "given_by": "attorney"},
                            headers=headers)
    assert withdrawn.status_code == 201 and not withdrawn.json["consent_to_share"]
    read = client.get(f"/api/patients/{joe.id}/consents", headers=headers).json
    assert [h["decision"] for h in read["history"]] == ["withdrawn", "given"]
    assert client.get(f"/api/patients/{joe.id}/care-plan",
                      headers=headers).status_code == 403
    actions = audit_actions(session, patient_id=joe.id)
    assert {"record_consent", "withdraw_consent", "view_consent"} <= set(actions)
    bad = client.post(f"/api/patients/{joe.id}/consents",
                      json={"decision": "given", "given_by": "neighbour"}, headers=headers)
    assert bad.status_code == 422


@pytest.mark.safety("H-206")
def test_consent_scopes_contact_carer_and_text_patient(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Consent to contact the carer and to text the patient are records of their own scope:
    given and withdrawn with who recorded them, audited, each on its own; they never share
    the care plan (H-009 unchanged)."""
    joe = f.patient(session)
    session.commit()
    headers = token_for("coordinator", username="cora")
    url = f"/api/patients/{joe.id}/consents"
    for scope in ("contact_carer", "text_patient"):
        given = client.post(url, json={"decision": "given", "given_by": "patient",
                                       "scope": scope}, headers=headers)
        assert given.status_code == 201, given.json
        assert client.post(url, json={"decision": "given", "given_by": "patient",
                                      "scope": scope}, headers=headers).status_code == 409
    state = client.get(url, headers=headers).json
    assert not state["consent_to_share"]
    assert {s["scope"]: (s["given"], s["recorded_by"]) for s in state["scopes"]} == {
        "care_plan_direct_care": (False, None), "contact_carer": (True, "cora"),
        "text_patient": (True, "cora")}
    assert client.get(f"/api/patients/{joe.id}/care-plan", headers=headers).status_code == 403
    withdrawn = client.post(url, json={"decision": "withdrawn", "given_by": "deputy",
                                       "scope": "text_patient"}, headers=headers)
    assert withdrawn.status_code == 201
    scopes = {s["scope"]: s["given"] for s in withdrawn.json["scopes"]}
    assert scopes == {"care_plan_direct_care": False, "contact_carer": True,
                      "text_patient": False}
    assert client.post(url, json={"decision": "withdrawn", "given_by": "patient",
                                  "scope": "text_patient"}, headers=headers).status_code == 409
    assert [(h["scope"], h["decision"]) for h in withdrawn.json["history"]][0] == (
        "text_patient", "withdrawn")
    assert client.post(url, json={"decision": "given", "given_by": "patient",
                                  "scope": "everything"}, headers=headers).status_code == 422
    actions = audit_actions(session, patient_id=joe.id)
    assert actions.count("record_consent") == 2 and "withdraw_consent" in actions


@pytest.mark.safety("H-206")
def test_consent_page_chooses_the_scope(app: Flask, session: so.Session) -> None:
    """The consent page lists every scope now; the scope radios choose which one the record
    and withdraw forms change; the care plan's consent is left as it was."""
    from tests.dispatch.web.test_web_support import add_web_user, sign_in, web_client

    joe = f.patient(session)
    session.commit()
    web = web_client(app)
    sign_in(web, add_web_user(session, "coordinator").username)
    page = web.get(f"/patients/{joe.id}/consent").get_data(as_text=True)
    assert 'id="consent-scopes"' in page and 'name="scope"' in page
    assert "Consent to contact the carer" in page and "Consent to text the patient" in page
    chosen = web.get(f"/patients/{joe.id}/consent?scope=contact_carer").get_data(as_text=True)
    assert "<h1 class=\"nhsuk-heading-l\">Consent to contact the carer</h1>" in chosen
    assert 'value="contact_carer"' in chosen
    made = web.post(f"/patients/{joe.id}/consent", data={"given_by": "patient",
                                                          "scope": "contact_carer"})
    assert made.status_code == 303 and made.headers["Location"].endswith("scope=contact_carer")
    after = web.get(made.headers["Location"]).get_data(as_text=True)
    assert "Consent to contact the carer recorded." in after
    assert 'id="consent-status">Given' in after
    session.refresh(joe)
    assert not joe.consent_to_share
    plan_page = web.get(f"/patients/{joe.id}/consent").get_data(as_text=True)
    assert 'id="consent-status">Not recorded' in plan_page

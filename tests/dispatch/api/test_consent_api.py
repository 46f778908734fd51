"""Consent to share the care plan by API, as on the consent page (issue 16)."""

from __future__ import annotations

from collections.abc import Callable

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

"""Carers linked to patients, carers' assessments, texts to carers (issue 16, item 3)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import (
    add_web_user,
    audit_actions,
    referral_form,
    sign_in,
    web_client,
)

Auth = Callable[..., dict[str, str]]
ANNIE = {"name": "Annie Bloggs", "relationship": "wife", "phone": "07700 900123",
         "lives_with_patient": True, "next_of_kin": True}


def _annie(client: FlaskClient, headers: dict[str, str], patient_id: int,
           consent: bool) -> dict[str, object]:
    made = client.post("/api/carers", json={**ANNIE, "patient_id": patient_id,
                                            "consent_to_contact": consent}, headers=headers)
    assert made.status_code == 201, made.json
    return dict(made.json)


def test_carer_linked_listed_and_audited(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A carer is added with relationship, living together and consent (who recorded it);
    listing the patient's carers is audited; the same carer links to a second patient."""
    joe = f.patient(session)
    ann = f.patient(session, nhs_number="9000000009", given_name="Ann")
    session.commit()
    headers = token_for("coordinator", username="cora")
    annie = _annie(client, headers, joe.id, consent=True)
    [link] = annie["links"]
    assert (link["relationship"], link["lives_with_patient"], link["consent_recorded_by"]) == (
        "wife", True, "cora")
    assert annie["phone"] == "+447700900123"
    listed = client.get(f"/api/carers?patient_id={joe.id}", headers=headers).json
    assert [c["name"] for c in listed] == ["Annie Bloggs"]
    assert "view_carers" in audit_actions(session, patient_id=joe.id)
    second = client.post(f"/api/carers/{annie['id']}/links",
                         json={"patient_id": ann.id, "relationship": "neighbour"},
                         headers=headers)
    assert second.status_code == 201
    again = client.post(f"/api/carers/{annie['id']}/links",
                        json={"patient_id": ann.id, "relationship": "neighbour"},
                        headers=headers)
    assert again.status_code == 409


def test_carer_assessment_due_done_and_overdue_on_caseload(
    app: Flask, client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """An assessment is arranged (due), flagged on the coordinator's caseload once overdue,
    and recorded done with its outcome (once)."""
    coordinator = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.add(m.CareCoordination(patient_id=joe.id, coordinator_user_id=coordinator.id,
                                   assigned_at=f.NOW, assigned_by="x"))
    session.commit()
    headers = token_for("coordinator")
    annie = _annie(client, headers, joe.id, consent=False)
    planned = client.post(f"/api/carers/{annie['id']}/assessments", json={"due": "2026-12-08"},
                          headers=headers)
    assert planned.status_code == 201, planned.json
    row = session.get(m.CarerAssessment, planned.json["id"])
    row.due = f.NOW.date() - timedelta(days=1)  # arranged earlier, now overdue
    session.commit()
    web = web_client(app)
    sign_in(web, coordinator.username)
    assert "Carer&#39;s assessment overdue: Annie Bloggs" in web.get("/caseload").get_data(
        as_text=True)
    done = client.post(f"/api/carer-assessments/{row.id}/done",
                       json={"outcome": "Respite two days a week", "assessor": "Sam Social"},
                       headers=headers)
    assert done.status_code == 200 and done.json["done_at"] is not None
    assert client.post(f"/api/carer-assessments/{row.id}/done",
                       json={"outcome": "x", "assessor": "y"}, headers=headers).status_code == 409


@pytest.mark.safety("H-203", "H-206")
def test_text_to_carer_only_with_consent_and_no_clinical_detail(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Without the carer's agreement or the patient's consent record (scope contact_carer) no
    text goes (403); with both, the text carries the arrival window and the visit reference
    only: no name, no address, no condition. Withdrawn, no text goes again."""
    joe = f.patient(session)
    referral = f.referral(session, joe.id)
    visit = f.visit(session, referral.id, joe.id, planned_start=f.NOW + timedelta(minutes=40))
    session.commit()
    headers = token_for("coordinator")
    annie = _annie(client, headers, joe.id, consent=False)
    link_id = annie["links"][0]["id"]
    refused = client.post(f"/api/carer-links/{link_id}/visit-texts",
                          json={"visit_id": visit.id}, headers=headers)
    assert refused.status_code == 403
    assert session.scalar(sa.select(sa.func.count(m.Message.id))) == 0
    assert client.put(f"/api/carer-links/{link_id}/consent", json={"consent_to_contact": True},
                      headers=headers).status_code == 200
    still = client.post(f"/api/carer-links/{link_id}/visit-texts",
                        json={"visit_id": visit.id}, headers=headers)
    assert still.status_code == 403 and "patient has not consented" in still.json["message"]
    given = client.post(f"/api/patients/{joe.id}/consents", json={
        "decision": "given", "given_by": "patient", "scope": "contact_carer"}, headers=headers)
    assert given.status_code == 201, given.json
    sent = client.post(f"/api/carer-links/{link_id}/visit-texts", json={"visit_id": visit.id},
                       headers=headers)
    assert sent.status_code == 201, sent.json
    body = sent.json["body"]
    assert "09:40-10:40 today" in body and "Ref 4821" in body
    for secret in ("Joe", "Bloggs", "Wood Lane", "W12", "dementia", "9434765919"):
        assert secret not in body
    assert sent.json["to"] == "+447700900123"
    assert "text_carer_about_visit" in audit_actions(session, patient_id=joe.id)
    assert client.post(f"/api/patients/{joe.id}/consents", json={
        "decision": "withdrawn", "given_by": "patient", "scope": "contact_carer"},
        headers=headers).status_code == 201
    assert client.post(f"/api/carer-links/{link_id}/visit-texts", json={"visit_id": visit.id},
                       headers=headers).status_code == 403


@pytest.mark.parametrize("need", ["carer_breakdown", "carer_crisis"])
@pytest.mark.safety("H-207")
def test_carer_breakdown_referral_shows_the_carer(
    app: Flask, session: so.Session, need: str
) -> None:
    """A referral for carer breakdown, or for the carer's own crisis, is a 2-hour response
    and shows who the carer is, linking to their page (the read audited)."""
    joe = f.patient(session, consent_to_share=True, consent_recorded_by="x",
                    consent_recorded_at=f.NOW)
    carer = m.Carer(name="Annie Bloggs", phone="+447700900123")
    session.add(carer)
    session.flush()
    session.add(m.CarerLink(carer_id=carer.id, patient_id=joe.id, relationship="wife",
                            lives_with_patient=True))
    session.commit()
    handler = add_web_user(session, "call_handler")
    web = web_client(app)
    sign_in(web, handler.username)
    made = web.post("/referrals/new", data=referral_form(joe.id, needs=[need]))
    assert made.status_code == 303, made.get_data(as_text=True)[:3000]
    referral = session.scalars(sa.select(m.Referral)).one()
    assert referral.category == "urgent_2h" and referral.needs == [need]
    page = web.get(made.headers["Location"]).get_data(as_text=True)
    assert 'id="carer-links"' in page and "Annie Bloggs" in page and "wife" in page
    assert "view_carers" in audit_actions(session, patient_id=joe.id)


def test_carer_pages(app: Flask, session: so.Session) -> None:
    """A coordinator adds a carer on the patient's page, arranges and records the carer's
    assessment and texts the arrival window from the carer's page."""
    joe = f.patient(session)
    referral = f.referral(session, joe.id)
    visit = f.visit(session, referral.id, joe.id)
    session.commit()
    coordinator = add_web_user(session, "coordinator")
    web = web_client(app)
    sign_in(web, coordinator.username)
    added = web.post(f"/patients/{joe.id}/carers", data={
        "name": "Annie Bloggs", "relationship": "wife", "phone": "07700900123",
        "lives_with_patient": "y", "consent_to_contact": "y"})
    assert added.status_code == 303, added.get_data(as_text=True)[:2000]
    carer = session.scalars(sa.select(m.Carer)).one()
    assert carer.links[0].lives_with_patient and carer.links[0].consent_to_contact
    assert web.post(f"/patients/{joe.id}/consent", data={
        "given_by": "patient", "scope": "contact_carer"}).status_code == 303
    assert web.post(f"/carers/{carer.id}/assessments", data={"due": "2026-12-10"}
                    ).status_code == 303
    assessment = session.scalars(sa.select(m.CarerAssessment)).one()
    assert web.post(f"/carer-assessments/{assessment.id}/done", data={
        "assessor": "Sam Social", "outcome": "Respite agreed"}).status_code == 303
    texted = web.post(f"/carer-links/{carer.links[0].id}/visit-text",
                      data={"visit_id": str(visit.id)})
    assert texted.status_code == 303
    page = web.get(f"/carers/{carer.id}").get_data(as_text=True)
    assert "Respite agreed" in page and "queued to Annie Bloggs" in page
    assert web.post(f"/patients/{joe.id}/carers", data={"name": ""}).status_code == 422

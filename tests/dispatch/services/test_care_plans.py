"""Care plans authored and versioned in the service, reviewed on time (issue 16, item 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, audit_actions, sign_in, web_client

Auth = Callable[..., dict[str, str]]
PLAN = {"summary": "85, early dementia; lives with Annie (wife, main carer).",
        "goals": ["Stay at home with Annie"], "needs": ["Help with mobility"],
        "crisis_plan": "Urgent community response within 2 hours; 999 for red flags only.",
        "next_of_kin": "Annie Bloggs (wife) 020 7946 0001", "dnacpr": "in_place",
        "respect": "in_place", "review_due": "2027-03-01", "reviewer": "Dr Patel (GP)"}


def _consented(session: so.Session) -> m.Patient:
    patient = f.patient(session, consent_to_share=True, consent_recorded_by="Dr Patel",
                        consent_recorded_at=f.NOW)
    session.commit()
    return patient


def test_care_plan_versions_written_and_every_version_kept(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Two versions written through the API are both kept, newest first, with review terms and
    the DNACPR/ReSPECT warnings; writing and reading are audited."""
    joe = _consented(session)
    headers = token_for("coordinator", username="cora")
    first = client.post(f"/api/patients/{joe.id}/care-plans", json=PLAN, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["version"] == 1 and first.json["author"] == "cora"
    second = client.post(f"/api/patients/{joe.id}/care-plans",
                         json={**PLAN, "dnacpr": "not_discussed", "summary": "Reviewed"},
                         headers=headers)
    assert second.json["version"] == 2
    read = client.get(f"/api/patients/{joe.id}/care-plans", headers=token_for("call_handler"))
    assert read.status_code == 200, read.json
    assert [v["version"] for v in read.json["versions"]] == [2, 1]
    latest = read.json["versions"][0]
    assert latest["review_due"] == "2027-03-01" and latest["past_review"] is False
    assert latest["warnings"] == [
        "ReSPECT form in place: follow the recommended emergency care and treatment"]
    assert len(read.json["versions"][1]["warnings"]) == 2
    actions = audit_actions(session, patient_id=joe.id)
    assert actions.count("author_care_plan") == 2
    assert {"view_care_plan", "view_care_plan_history"} <= set(actions)


@pytest.mark.safety("H-202")
def test_care_plan_versions_keep_the_consent_rule(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Without consent the versions are refused like the current plan, and the refusal logged."""
    joe = f.patient(session)
    session.commit()
    assert client.post(f"/api/patients/{joe.id}/care-plans", json=PLAN,
                       headers=token_for("coordinator")).status_code == 201
    read = client.get(f"/api/patients/{joe.id}/care-plans", headers=token_for("call_handler"))
    assert read.status_code == 403
    assert "care_plan_refused" in audit_actions(session, patient_id=joe.id)


@pytest.mark.parametrize(("field", "value"), [("review_due", "2026-11-30"),
                                              ("review_due", "2028-01-01"),
                                              ("dnacpr", "maybe"), ("crisis_plan", "")])
def test_care_plan_invalid_version_422(
    client: FlaskClient, token_for: Auth, session: so.Session, field: str, value: str
) -> None:
    """A review date not in the next year, an unknown DNACPR status or no crisis plan: 422
    naming the field, and nothing written."""
    joe = _consented(session)
    answer = client.post(f"/api/patients/{joe.id}/care-plans", json={**PLAN, field: value},
                         headers=token_for("coordinator"))
    errors = answer.json["errors"]
    assert answer.status_code == 422 and field in errors.get("json", errors)
    assert session.scalar(sa.select(sa.func.count(m.CarePlan.id))
                          .where(m.CarePlan.patient_id == joe.id)) == 0


def _overdue_plan(session: so.Session, patient: m.Patient, coordinator: m.User) -> None:
    plan = m.CarePlan(patient_id=patient.id, version=1, summary="Old plan", author="GP",
                      content={"dnacpr": "in_place"})
    session.add(plan)
    session.flush()
    session.add(m.CarePlanReview(care_plan_id=plan.id, patient_id=patient.id,
                                 review_due=date(2026, 11, 1), reviewer="Dr Patel"))
    session.add(m.CareCoordination(patient_id=patient.id, coordinator_user_id=coordinator.id,
                                   assigned_at=f.NOW, assigned_by="x"))
    session.commit()


@pytest.mark.safety("H-200")
def test_overdue_review_flagged_to_the_coordinator(app: Flask, session: so.Session) -> None:
    """A latest version past its review date is listed for its coordinator (API) and flagged
    first on the coordinator's caseload page; both reads are audited."""
    coordinator = add_web_user(session, "coordinator")
    joe = _consented(session)
    _overdue_plan(session, joe, coordinator)
    client = web_client(app)
    sign_in(client, coordinator.username)
    page = client.get("/caseload").get_data(as_text=True)
    assert "Care plan review overdue (due 1 Nov 2026)" in page
    assert "view_caseload" in audit_actions(session, patient_id=joe.id)


def test_overdue_reviews_api(client: FlaskClient, token_for: Auth, session: so.Session) -> None:
    """GET /api/care-plans/overdue-reviews lists the patient, filtered by coordinator."""
    headers = token_for("coordinator", username="cora")
    cora = session.scalar(sa.select(m.User).where(m.User.username == "cora"))
    joe = _consented(session)
    _overdue_plan(session, joe, cora)
    rows = client.get(f"/api/care-plans/overdue-reviews?coordinator_user_id={cora.id}",
                      headers=headers).json
    assert [(r["patient_id"], r["review_due"]) for r in rows] == [(joe.id, "2026-11-01")]
    assert "view_overdue_review" in audit_actions(session, patient_id=joe.id)


@pytest.mark.safety("H-200", "H-201")
def test_111_view_shows_version_author_banner_and_past_review(
    app: Flask, session: so.Session
) -> None:
    """The handler's care plan panel shows the version with date and author, DNACPR as a
    warning banner (not a row) and marks a plan past its review date."""
    coordinator = add_web_user(session, "coordinator")
    joe = _consented(session)
    _overdue_plan(session, joe, coordinator)
    handler = add_web_user(session, "call_handler")
    client = web_client(app)
    sign_in(client, handler.username)
    page = client.get(f"/referrals/new?patient={joe.id}").get_data(as_text=True)
    assert 'id="care-plan-resuscitation"' in page and "DNACPR decision in place" in page
    assert "Past review date" in page and "Version 1, written by GP" in page
    assert "Dnacpr" not in page


def test_care_plan_pages_write_a_version(app: Flask, session: so.Session) -> None:
    """A coordinator opens the plan, writes the next version on the form, and sees it."""
    coordinator = add_web_user(session, "coordinator")
    joe = _consented(session)
    client = web_client(app)
    sign_in(client, coordinator.username)
    assert client.get(f"/patients/{joe.id}/care-plan/new").status_code == 200
    form = {**PLAN, "goals": "Stay at home\nWalk to the shops", "needs": "Mobility"}
    saved = client.post(f"/patients/{joe.id}/care-plan/new", data=form)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:2000]
    page = client.get(f"/patients/{joe.id}/care-plan").get_data(as_text=True)
    assert "Version 1, by" in page and "Walk to the shops" in page
    bad = client.post(f"/patients/{joe.id}/care-plan/new", data={**form, "reviewer": ""})
    assert bad.status_code == 422


@pytest.mark.safety("H-202")
def test_care_plan_page_without_consent_403(app: Flask, session: so.Session) -> None:
    """Without consent the page refuses (and says how to record consent); audited."""
    coordinator = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.commit()
    client = web_client(app)
    sign_in(client, coordinator.username)
    answer = client.get(f"/patients/{joe.id}/care-plan")
    assert answer.status_code == 403 and "Record the patient" in answer.get_data(as_text=True)
    assert "care_plan_refused" in audit_actions(session, patient_id=joe.id)

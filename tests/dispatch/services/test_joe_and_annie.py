"""Joe and Annie's story (tri-borough business case, seeds/002) played through the service.

Joe, 85, early dementia, lives at home with his wife Annie. Risk stratification puts him in
the very high tier; an integrated care plan led by his GP is shared with everyone involved;
Annie is his carer. One night a urine infection leaves him confused and unsteady: Annie calls
111, who see his care plan; a district nurse visits within two hours; the next day a follow-up;
the council is asked for more help; the multidisciplinary group's case conference agrees
grab rails and equipment; Annie's own needs are assessed; a hybrid worker visits while he
recovers, and his GP reviews the care plan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, sign_in, web_client
from triage import RED_FLAGS

Auth = Callable[..., dict[str, str]]
NO_RED_FLAGS = dict.fromkeys(RED_FLAGS, "no")


def _user_id(session: so.Session, username: str) -> int:
    user_id = session.scalar(sa.select(m.User.id).where(m.User.username == username))
    assert user_id is not None
    return int(user_id)


def _ok(answer: object, status: int = 200) -> dict:  # type: ignore[type-arg]
    assert answer.status_code == status, answer.json  # type: ignore[attr-defined]
    return answer.json  # type: ignore[attr-defined, no-any-return]


def test_joe_and_annie_end_to_end(
    app: Flask, client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """The whole story through the API (and the consent page), each step checked."""
    # --- the register: network, practice, group, Joe in the very high tier -----------------
    network = f.network(session, on_call_phone="+447700900999")
    joe = f.patient(session, network_id=network.id, risk_tier="very_high", frailty=6,
                    conditions=["dementia"])
    session.commit()
    manager = token_for("manager", username="mo")
    coordinator = token_for("coordinator", username="cora")
    handler = token_for("call_handler", username="hal")
    cora = _user_id(session, "cora")
    practice = _ok(client.post("/api/practices", json={
        "ods_code": "E85001", "name": "Brook Green Medical Centre", "network_id": network.id},
        headers=manager), 201)
    _ok(client.post(f"/api/practices/{practice['id']}/registrations",
                    json={"patient_id": joe.id}, headers=coordinator), 201)
    group = _ok(client.post("/api/groups", json={
        "network_id": network.id, "name": "Brook Green MDG", "cadence": "monthly"},
        headers=manager), 201)
    for member in ({"name": "Dr Patel", "role": "gp"},
                   {"name": "Dee Nurse", "role": "district_nurse"},
                   {"name": "Sam Social", "role": "social_worker"},
                   {"name": "Mo Manager", "role": "mdg_manager",
                    "user_id": _user_id(session, "mo")}):
        _ok(client.post(f"/api/groups/{group['id']}/members", json=member, headers=manager), 201)
    _ok(client.put(f"/api/patients/{joe.id}/coordinator", json={"coordinator_user_id": cora},
                   headers=coordinator))
    caseload = _ok(client.get(f"/api/coordinators/{cora}/caseload", headers=coordinator))
    assert [(p["patient_id"], p["risk_tier"], p["practice"]) for p in caseload] == [
        (joe.id, "very_high", "Brook Green Medical Centre")]

    # --- consent, the GP-led care plan, Annie as carer -----------------------------------
    consent_page = web_client(app)
    sign_in(consent_page, add_web_user(session, "coordinator").username)
    assert consent_page.post(f"/patients/{joe.id}/consent", data={
        "given_by": "patient", "scope": "care_plan_direct_care"}).status_code == 303
    # Joe also agrees that Annie may be told when the team is coming (item 4's second scope).
    assert consent_page.post(f"/patients/{joe.id}/consent", data={
        "given_by": "patient", "scope": "contact_carer"}).status_code == 303
    plan = _ok(client.post(f"/api/patients/{joe.id}/care-plans", json={
        "summary": "85, early dementia; lives with Annie (wife, main carer).",
        "goals": ["Stay at home with Annie"], "needs": ["Prompting with medicines"],
        "crisis_plan": "If suddenly confused: urgent community response within 2 hours "
                       "(screen for infection); 999 only for red flags.",
        "next_of_kin": "Annie (wife)", "dnacpr": "not_discussed", "respect": "not_in_place",
        "review_due": "2027-02-01", "reviewer": "Dr Patel (GP)"}, headers=coordinator), 201)
    assert plan["version"] == 1
    annie = _ok(client.post("/api/carers", json={
        "patient_id": joe.id, "name": "Annie Bloggs", "relationship": "wife",
        "phone": "07700 900123", "lives_with_patient": True, "next_of_kin": True,
        "consent_to_contact": True}, headers=coordinator), 201)

    # --- 02:10: Annie calls 111, who see the care plan -------------------------------------
    app.config["FIXED_NOW"] = "2026-12-01T02:10:00+00:00"
    shared = _ok(client.get(f"/api/patients/{joe.id}/care-plan?purpose=111+call",
                            headers=handler))
    assert shared["version"] == 1 and shared["access_basis"] == "consent"
    call = _ok(client.post("/api/referrals", json={
        "source": "111", "referrer": {"name": "Hal", "role": "call handler",
                                      "organisation": "NHS 111"},
        "patient_id": joe.id, "received_at": "2026-12-01T02:05:00+00:00",
        "needs": ["sudden_confusion"], "red_flag_answers": NO_RED_FLAGS,
        "observations": {"respiration_rate": 20, "spo2": 96, "systolic_bp": 125,
                         "pulse": 92, "consciousness": "new_confusion", "temperature": 38.2},
        "notes": "Annie: more confused tonight, unsteady; smelly urine"},
        headers={**handler, "Idempotency-Key": "joe-111"}), 201)
    assert call["category"] == "urgent_2h"
    [two_hour] = call["visits"]
    deadline = datetime.fromisoformat(two_hour["deadline"])
    assert deadline - datetime.fromisoformat("2026-12-01T02:05:00+00:00") <= timedelta(hours=2)
    texted = _ok(client.post(f"/api/carer-links/{annie['links'][0]['id']}/visit-texts",
                             json={"visit_id": two_hour["id"]}, headers=coordinator), 201)
    assert two_hour["reference"] in texted["body"] and "Joe" not in texted["body"]

    # --- the district nurse visits; the next-day follow-up --------------------------------
    visit = session.get(m.Visit, two_hour["id"])
    nurse = f.staff(session, network_id=network.id)
    visit.assigned_staff_id, visit.status = nurse.id, "completed"
    visit.arrived_at = datetime.fromisoformat("2026-12-01T03:30:00+00:00")
    visit.completed_at = visit.arrived_at + timedelta(minutes=50)
    visit.outcome = "visit_completed"
    session.commit()
    app.config["FIXED_NOW"] = "2026-12-01T09:00:00+00:00"
    follow_up = _ok(client.post("/api/referrals", json={
        "source": "out_of_hours", "referrer": {"name": "OOH GP"}, "patient_id": joe.id,
        "received_at": "2026-12-01T08:55:00+00:00", "needs": ["medication_support"],
        "red_flag_answers": NO_RED_FLAGS, "notes": "Antibiotics started; check tomorrow"},
        headers=coordinator), 201)
    assert follow_up["category"] == "response_24h" and follow_up["visits"]

    # --- the council is asked for more help; it needs more time -------------------------
    council = _ok(client.post("/api/onward-referrals", json={
        "patient_id": joe.id, "service": "adult_social_care",
        "reason": "Annie needs more help at home"}, headers=coordinator), 201)
    _ok(client.post(f"/api/onward-referrals/{council['id']}/status", json={
        "status": "accepted", "contact": "Tri-borough ASC duty team",
        "outcome": "Needs more time to assess Joe's needs"}, headers=coordinator))

    # --- the MDG case conference: grab rails, equipment, memory clinic -------------------
    conference = _ok(client.post(f"/api/groups/{group['id']}/case-conferences",
                                 json={"held_at": "2026-12-01T13:00:00+00:00"},
                                 headers=coordinator), 201)
    if not any(c["patient_id"] == joe.id for c in conference["cases"]):
        _ok(client.post(f"/api/case-conferences/{conference['id']}/cases",
                        json={"patient_id": joe.id, "note": "Crisis last night"},
                        headers=coordinator), 201)
    conference = _ok(client.get(f"/api/case-conferences/{conference['id']}",
                                headers=coordinator))
    [case] = [c for c in conference["cases"] if c["patient_id"] == joe.id]
    _ok(client.patch(f"/api/conference-cases/{case['id']}", json={
        "notes": "Infection caused confusion; at risk of falling at home",
        "root_cause": "infection"}, headers=coordinator))
    rails = _ok(client.post(f"/api/conference-cases/{case['id']}/actions", json={
        "title": "Install grab rails in the bathroom", "due": "2026-12-04",
        "owner_user_id": cora}, headers=coordinator), 201)
    for service in ("equipment_telecare", "memory_clinic"):
        _ok(client.post("/api/onward-referrals", json={
            "patient_id": joe.id, "service": service, "reason": "Agreed at the MDG"},
            headers=coordinator), 201)

    # --- Annie's carer's assessment -------------------------------------------------------
    assessment = _ok(client.post(f"/api/carers/{annie['id']}/assessments",
                                 json={"due": "2026-12-10"}, headers=coordinator), 201)
    _ok(client.post(f"/api/carer-assessments/{assessment['id']}/done", json={
        "outcome": "Respite two afternoons a week; carers' group", "assessor": "Sam Social"},
        headers=coordinator))

    # --- the hybrid worker visits while he recovers; the GP reviews the care plan ----------
    recovery = _ok(client.post("/api/referrals", json={
        "source": "gp", "referrer": {"name": "Dr Patel", "role": "GP"}, "patient_id": joe.id,
        "received_at": "2026-12-01T08:58:00+00:00", "needs": ["personal_care"],
        "red_flag_answers": NO_RED_FLAGS, "notes": "Help with mobility while he recovers"},
        headers=coordinator), 201)
    [hybrid] = recovery["visits"]
    assert "personal_care" in session.get(m.Visit, hybrid["id"]).skills
    reviewed = _ok(client.post(f"/api/patients/{joe.id}/care-plans", json={
        "summary": "Recovering from a urine infection; hybrid worker visits for a few weeks.",
        "goals": ["Stay at home with Annie", "Walk safely with grab rails"],
        "needs": ["Help with mobility", "Memory clinic assessment"],
        "crisis_plan": "Urgent community response within 2 hours; 999 only for red flags.",
        "next_of_kin": "Annie (wife)", "dnacpr": "not_discussed", "respect": "not_in_place",
        "review_due": "2027-01-05", "reviewer": "Dr Patel (GP)"}, headers=coordinator), 201)
    assert reviewed["version"] == 2
    versions = _ok(client.get(f"/api/patients/{joe.id}/care-plans", headers=handler))
    assert [v["version"] for v in versions["versions"]] == [2, 1]

    # --- what the coordinator sees, and the rails done -------------------------------------
    open_referrals = _ok(client.get(f"/api/onward-referrals?patient_id={joe.id}&open=true",
                                    headers=coordinator))
    assert {o["service"] for o in open_referrals} == {
        "adult_social_care", "equipment_telecare", "memory_clinic"}
    tasks = _ok(client.get(f"/api/tasks?owner_user_id={cora}&open=true", headers=coordinator))
    assert [t["id"] for t in tasks] == [rails["id"]]
    _ok(client.post(f"/api/tasks/{rails['id']}/done", headers=coordinator))
    assert _ok(client.get(f"/api/tasks?owner_user_id={cora}&open=true",
                          headers=coordinator)) == []
    overdue = _ok(client.get(f"/api/care-plans/overdue-reviews?coordinator_user_id={cora}",
                             headers=coordinator))
    assert overdue == []
    assert date.fromisoformat(versions["versions"][0]["review_due"]) > date(2026, 12, 1)

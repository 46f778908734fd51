"""Case conferences (issue 16, item 6): the list builds itself; notes, root causes, actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, audit_actions, sign_in, web_client

Auth = Callable[..., dict[str, str]]


def _group_with_patients(session: so.Session) -> tuple[m.MdGroup, m.Patient, m.Patient]:
    network = f.network(session)
    group = m.MdGroup(network_id=network.id, name="North MDG", cadence="monthly")
    session.add(group)
    joe = f.patient(session, network_id=network.id)
    quiet = f.patient(session, nhs_number="9000000009", given_name="Quiet",
                      network_id=network.id)
    session.flush()
    return group, joe, quiet


def test_conference_list_builds_itself_from_999_admissions_and_jeopardy(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Joe was sent to 999 and admitted from a visit in the month: he is listed with both
    reasons; a quiet patient is not; a coordinator adds a pick; notes, root cause and an
    action are recorded, and the action is on its owner's list."""
    group, joe, quiet = _group_with_patients(session)
    f.referral(session, joe.id, category="emergency_999", status="sent_to_999",
               received_at=f.NOW - timedelta(days=3))
    other = f.referral(session, joe.id, received_at=f.NOW - timedelta(days=2))
    nurse = f.staff(session)
    f.visit(session, other.id, joe.id, status="completed", outcome="admitted_to_hospital",
            assigned_staff_id=nurse.id,
            completed_at=f.NOW - timedelta(days=2))
    session.commit()
    headers = token_for("coordinator", username="cora")
    built = client.post(f"/api/groups/{group.id}/case-conferences",
                        json={"held_at": "2026-12-01T13:00:00+00:00"}, headers=headers)
    assert built.status_code == 201, built.json
    [case] = built.json["cases"]
    assert case["patient_id"] == joe.id
    assert case["reasons"] == ["admitted", "sent_to_999"]
    picked = client.post(f"/api/case-conferences/{built.json['id']}/cases",
                         json={"patient_id": quiet.id, "note": "Lives alone"}, headers=headers)
    assert picked.status_code == 201 and picked.json["reasons"] == ["coordinator_pick"]
    noted = client.patch(f"/api/conference-cases/{case['id']}",
                         json={"notes": "UTI, confusion, fell", "root_cause": "infection"},
                         headers=headers)
    assert noted.status_code == 200 and noted.json["root_cause"] == "infection"
    cora = session.get(m.User, session.scalar(
        m.User.__table__.select().with_only_columns(m.User.id).where(m.User.username == "cora")))
    action = client.post(f"/api/conference-cases/{case['id']}/actions",
                         json={"title": "Install grab rails", "due": "2026-12-08",
                               "owner_user_id": cora.id}, headers=headers)
    assert action.status_code == 201 and action.json["conference_case_id"] == case["id"]
    mine = client.get(f"/api/tasks?owner_user_id={cora.id}&open=true", headers=headers).json
    assert [t["title"] for t in mine] == ["Install grab rails"]
    read = client.get(f"/api/case-conferences/{built.json['id']}", headers=headers).json
    assert len(read["cases"]) == 2 and read["cases"][0]["actions"][0]["title"] == (
        "Install grab rails")
    assert "conference_case" in audit_actions(session, patient_id=joe.id)
    bad = client.patch(f"/api/conference-cases/{case['id']}", json={"root_cause": "bad luck"},
                       headers=headers)
    assert bad.status_code == 422


def test_next_conference_starts_where_the_last_ended(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A second conference lists only what happened since the first."""
    group, joe, _ = _group_with_patients(session)
    f.referral(session, joe.id, category="emergency_999", status="sent_to_999",
               received_at=f.NOW - timedelta(days=10))
    session.add(m.CaseConference(group_id=group.id, held_at=f.NOW - timedelta(days=7),
                                 since=f.NOW - timedelta(days=37), created_at=f.NOW,
                                 created_by="x"))
    session.commit()
    built = client.post(f"/api/groups/{group.id}/case-conferences",
                        json={"held_at": "2026-12-01T13:00:00+00:00"},
                        headers=token_for("coordinator"))
    assert built.json["cases"] == []
    assert built.json["since"].startswith("2026-11-24")


@pytest.mark.safety("H-204")
def test_conference_pages_and_actions_on_home(app: Flask, session: so.Session) -> None:
    """The group page builds the list; the conference page saves notes and adds an action;
    the owner's home page shows it until done."""
    group, joe, _ = _group_with_patients(session)
    f.referral(session, joe.id, category="emergency_999", status="sent_to_999",
               received_at=f.NOW - timedelta(days=1))
    session.commit()
    coordinator = add_web_user(session, "coordinator")
    web = web_client(app)
    sign_in(web, coordinator.username)
    assert web.get(f"/groups/{group.id}/conferences").status_code == 200
    built = web.post(f"/groups/{group.id}/conferences",
                     data={"held_on": "2026-12-01", "held_time": "13:00"})
    assert built.status_code == 303
    page = web.get(built.headers["Location"]).get_data(as_text=True)
    assert "Sent to 999" in page and "Joe" in page
    conference = session.query(m.CaseConference).one()
    case = conference.cases[0]
    assert web.post(f"/conference-cases/{case.id}",
                    data={"notes": "Discussed", "root_cause": "fall"}).status_code == 303
    assert web.post(f"/conference-cases/{case.id}/actions", data={
        "title": "Refer to falls service", "owner_name": "", "owner_user_id": str(
            coordinator.id), "due": "2026-12-05"}).status_code == 303
    home = web.get("/home").get_data(as_text=True)
    assert "Refer to falls service" in home
    session.expire_all()
    assert session.get(m.ConferenceCase, case.id).root_cause == "fall"

"""Referrals out, hand-overs and tasks (issue 16, item 4) and hazard H-022: a child referred
out of scope is handed over with someone confirming who took them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.services import onward
from tests.dispatch import factories as f
from tests.dispatch.api.test_referrals_triage_safety import _child
from tests.dispatch.web.test_web_support import add_web_user, audit_actions, sign_in, web_client

Auth = Callable[..., dict[str, str]]


def _child_referral(client: FlaskClient, headers: dict[str, str]) -> dict[str, object]:
    answer = client.post("/api/referrals", json=_child(), headers=headers)
    assert answer.status_code == 201, answer.json
    assert answer.json["category"] == "out_of_scope"
    return dict(answer.json)


@pytest.mark.safety("H-022")
def test_out_of_scope_child_opens_a_handover_to_confirm(
    app: Flask, client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """An out-of-scope child makes a hand-over to children's services, due in 30 minutes, on
    the board until someone confirms who took it; confirming clears it from the board."""
    handler = token_for("call_handler")
    referral = _child_referral(client, handler)
    [row] = client.get(f"/api/onward-referrals?patient_id={referral['patient_id']}",
                       headers=handler).json
    assert (row["service"], row["handover"], row["status"], row["referral_id"]) == (
        "childrens_services", True, "sent", referral["id"])
    assert row["due_at"].startswith("2026-12-01T10:50")
    coordinator = add_web_user(session, "coordinator")
    web = web_client(app)
    sign_in(web, coordinator.username)
    board = web.get("/board").get_data(as_text=True)
    assert f'data-onward="{row["id"]}"' in board and "Hand-over to confirm" in board
    polled = web.get("/board/data").get_json()["html"]["handovers"]  # the live refresh
    assert f'data-onward="{row["id"]}"' in polled
    page = web.get(f"/referrals/{referral['id']}").get_data(as_text=True)
    assert 'id="confirm-handover"' in page

    refused = client.post(f"/api/onward-referrals/{row['id']}/status",
                          json={"status": "accepted"}, headers=handler)
    assert refused.status_code == 422 and "contact" in refused.json["errors"]
    confirmed = client.post(f"/api/onward-referrals/{row['id']}/status",
                            json={"status": "accepted", "service": "nhs_111",
                                  "contact": "Sam Lee, 111 clinical navigator"}, headers=handler)
    assert confirmed.status_code == 200, confirmed.json
    assert (confirmed.json["status"], confirmed.json["service"]) == ("accepted", "nhs_111")
    assert f'data-onward="{row["id"]}"' not in web.get("/board").get_data(as_text=True)
    assert "onward_referral_status" in audit_actions(session, patient_id=row["patient_id"])


@pytest.mark.safety("H-022")
def test_unconfirmed_handover_overdue_is_reminded_once(
    app: Flask, session: so.Session
) -> None:
    """Past its 30 minutes an unconfirmed hand-over is overdue on the board and reminded to
    the network's on-call coordinator once (an escalation in the grouped on-call text)."""
    network = f.network(session, on_call_phone="+447700900999")
    child = f.patient(session, nhs_number="9434765870", date_of_birth=date(2016, 5, 4),
                      network_id=network.id)
    referral = f.referral(session, child.id, category="out_of_scope", status="out_of_scope",
                          network_id=network.id)
    made = onward.open_out_of_scope_handover(session, referral=referral, patient=child,
                                             actor=SYSTEM, now=f.NOW)
    later = f.NOW + timedelta(minutes=31)
    assert onward.remind_overdue(session, now=later) == 1
    assert onward.remind_overdue(session, now=later + timedelta(minutes=5)) == 0
    [escalation] = session.scalars(sa.select(m.Escalation).where(
        m.Escalation.key == f"onward:{made.id}"))
    assert escalation.to_number == "+447700900999"
    assert "hand-over not confirmed" in escalation.cause and "Amy" not in escalation.cause
    [item] = onward.board_items(session, network_id=network.id, now=later)
    assert item.overdue and item.handover
    session.commit()
    coordinator = add_web_user(session, "coordinator")
    web = web_client(app)
    sign_in(web, coordinator.username)
    board = web.get(f"/board?network={network.id}").get_data(as_text=True)
    assert "Overdue" in board and f'data-onward="{made.id}"' in board


def test_onward_referral_statuses(
    client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """Sent, accepted (who took it), done; declined needs a reason; nothing after done."""
    joe = f.patient(session)
    session.commit()
    headers = token_for("coordinator")
    sent = client.post("/api/onward-referrals", json={
        "patient_id": joe.id, "service": "memory_clinic",
        "reason": "Memory worse since his hip operation"}, headers=headers)
    assert sent.status_code == 201, sent.json
    assert sent.json["status"] == "sent" and sent.json["due_at"].startswith("2026-12-15")
    oid = sent.json["id"]
    declined = client.post(f"/api/onward-referrals/{oid}/status",
                           json={"status": "declined"}, headers=headers)
    assert declined.status_code == 422 and "outcome" in declined.json["errors"]
    for status, extra in (("accepted", {"contact": "Memory clinic admin"}), ("done", {})):
        moved = client.post(f"/api/onward-referrals/{oid}/status",
                            json={"status": status, **extra}, headers=headers)
        assert moved.status_code == 200 and moved.json["status"] == status
    again = client.post(f"/api/onward-referrals/{oid}/status", json={"status": "done"},
                        headers=headers)
    assert again.status_code == 409
    bad = client.post("/api/onward-referrals", json={"patient_id": joe.id, "service": "spa",
                                                     "reason": "x"}, headers=headers)
    assert bad.status_code == 422


@pytest.mark.safety("H-204")
def test_tasks_created_listed_and_done_on_the_owners_caseload(
    app: Flask, client: FlaskClient, token_for: Auth, session: so.Session
) -> None:
    """A task owned by a coordinator is on their caseload page until marked done; done twice
    is 409."""
    owner = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.commit()
    headers = token_for("coordinator")
    made = client.post("/api/tasks", json={"title": "Install grab rails", "due": "2026-12-03",
                                           "patient_id": joe.id, "owner_user_id": owner.id},
                       headers=headers)
    assert made.status_code == 201, made.json
    assert made.json["owner_name"] == owner.display_name
    web = web_client(app)
    sign_in(web, owner.username)
    assert f'data-task="{made.json["id"]}"' in web.get("/caseload").get_data(as_text=True)
    done = web.post(f"/tasks/{made.json['id']}/done")
    assert done.status_code == 303
    assert f'data-task="{made.json["id"]}"' not in web.get("/caseload").get_data(as_text=True)
    assert client.post(f"/api/tasks/{made.json['id']}/done", headers=headers).status_code == 409
    late = client.post("/api/tasks", json={"title": "x", "due": "2026-11-01",
                                           "owner_name": "Council"}, headers=headers)
    assert late.status_code == 422 and "due" in late.json["errors"]


@pytest.mark.safety("H-204")
def test_overdue_onward_referral_flagged_on_caseload(app: Flask, session: so.Session) -> None:
    """A referral out past its due time is flagged on the patient's coordinator's caseload."""
    coordinator = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.add(m.CareCoordination(patient_id=joe.id, coordinator_user_id=coordinator.id,
                                   assigned_at=f.NOW, assigned_by="x"))
    onward.create_onward(session, patient=joe, service="adult_social_care", reason="More help",
                         actor=SYSTEM, now=f.NOW - timedelta(days=5))
    session.commit()
    web = web_client(app)
    sign_in(web, coordinator.username)
    page = web.get("/caseload").get_data(as_text=True)
    assert "Referral to Council adult social care overdue" in page


def test_patient_onward_page_sends_referral_and_adds_task(
    app: Flask, session: so.Session
) -> None:
    """The patient's page sends a referral out and adds a task (forms, Post/Redirect/Get)."""
    coordinator = add_web_user(session, "coordinator")
    joe = f.patient(session)
    session.commit()
    web = web_client(app)
    sign_in(web, coordinator.username)
    assert web.get(f"/patients/{joe.id}/onward").status_code == 200
    sent = web.post(f"/patients/{joe.id}/onward",
                    data={"service": "falls_service", "reason": "Fell twice this month"})
    assert sent.status_code == 303
    added = web.post(f"/patients/{joe.id}/tasks", data={
        "title": "Grab rails", "owner_name": "Council handyperson", "due": "2026-12-04"})
    assert added.status_code == 303
    page = web.get(f"/patients/{joe.id}/onward").get_data(as_text=True)
    assert "Falls service" in page and "Grab rails" in page
    bad = web.post(f"/patients/{joe.id}/onward", data={"service": "falls_service", "reason": ""})
    assert bad.status_code == 422
    assert "view_patient_onward" in audit_actions(session, patient_id=joe.id)

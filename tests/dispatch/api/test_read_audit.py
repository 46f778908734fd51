"""Reads of patient data through the API are audited, one event per request (issue 20 item
11), and a field-staff account with no staff link sees no visit (H-015)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_support import add_web_user, sign_in, web_client


def _world(session: so.Session) -> tuple[m.Patient, m.Referral, m.Visit, m.Staff]:
    """A patient with a referral and two visits: one assigned, one unassigned."""
    net = f.network(session)
    worker = f.staff(session, network_id=net.id)
    patient = f.patient(session, network_id=net.id)
    referral = f.referral(session, patient.id, network_id=net.id)
    mine = f.visit(session, referral.id, patient.id, network_id=net.id,
                   assigned_staff_id=worker.id, status="assigned")
    f.visit(session, referral.id, patient.id, reference="9999", network_id=net.id)
    session.commit()
    return patient, referral, mine, worker


def _events(session: so.Session) -> list[m.AuditEvent]:
    session.expire_all()
    return list(session.scalars(sa.select(m.AuditEvent).order_by(m.AuditEvent.id)))


def test_get_referral_is_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """GET /api/referrals/{id} writes one view_referral event naming the patient."""
    patient, referral, _, _ = _world(session)
    response = client.get(f"/api/referrals/{referral.id}", headers=token_for("coordinator"))
    assert response.status_code == 200
    [event] = _events(session)
    assert (event.action, event.patient_id, event.entity_type, event.entity_id) == (
        "view_referral", patient.id, "referral", str(referral.id))


def test_list_visits_is_audited_once(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """GET /api/visits writes one list_visits event naming every visit and patient listed."""
    patient, _, _, _ = _world(session)
    response = client.get("/api/visits?status=unassigned", headers=token_for("coordinator"))
    assert response.status_code == 200 and len(response.json) == 1
    [event] = _events(session)
    assert event.action == "list_visits"
    assert event.details["visit_ids"] == [response.json[0]["id"]]
    assert event.details["patient_ids"] == [patient.id]
    assert event.details["filters"] == {"status": "unassigned"}


def test_get_visit_is_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """GET /api/visits/{id} writes one view_visit event naming the patient."""
    patient, _, visit, _ = _world(session)
    assert client.get(f"/api/visits/{visit.id}",
                      headers=token_for("coordinator")).status_code == 200
    [event] = _events(session)
    assert (event.action, event.patient_id, event.entity_id) == (
        "view_visit", patient.id, str(visit.id))


def test_get_plan_is_audited(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """GET /api/plans/{id} writes one view_plan event."""
    plan = m.Plan(status="done", horizon_start=f.NOW, horizon_end=f.NOW + timedelta(hours=8),
                  seconds=1.0, result={"routes": [], "unassigned": []})
    session.add(plan)
    session.commit()
    assert client.get(f"/api/plans/{plan.id}", headers=token_for("manager")).status_code == 200
    [event] = _events(session)
    assert (event.action, event.entity_type, event.entity_id) == (
        "view_plan", "plan", str(plan.id))


@pytest.mark.safety("H-015")
def test_unlinked_field_staff_sees_no_visits_api(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A field-staff token with no staff link lists no visit (not every unassigned one) and
    cannot open one; a linked worker sees exactly their own."""
    _, _, mine, worker = _world(session)
    unlinked = token_for("field_staff")
    listed = client.get("/api/visits", headers=unlinked)
    assert listed.status_code == 200 and listed.json == []
    unassigned = session.scalar(sa.select(m.Visit).where(m.Visit.reference == "9999"))
    assert unassigned is not None
    assert client.get(f"/api/visits/{unassigned.id}", headers=unlinked).status_code == 404
    linked = client.get("/api/visits", headers=token_for("field_staff", staff_id=worker.id))
    assert [v["id"] for v in linked.json] == [mine.id]


@pytest.mark.safety("H-015")
def test_unlinked_field_staff_sees_no_visits_pages(app: Flask, session: so.Session) -> None:
    """On the pages an unlinked field-staff account gets an empty list and no visit page."""
    _world(session)
    client = web_client(app)
    assert sign_in(client, add_web_user(session, "field_staff").username).status_code == 303
    assert "9999" not in client.get("/my-visits").get_data(as_text=True)
    assert client.get("/visits/9999").status_code == 404
    assert client.get("/visits/4821").status_code == 404


@pytest.mark.safety("H-015")
def test_cli_user_add_links_field_staff(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`dispatch user add NAME --role field_staff --staff ID` links the account; without
    --staff, or with an unknown staff id, it is refused."""
    from dispatch import create_app
    from dispatch.cli import main
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    with get_database(create_app({"DATABASE_URL": url})).session_scope() as own:
        staff_id = f.staff(own).id
    runner = CliRunner()
    unlinked = runner.invoke(main, ["user", "add", "nia", "--role", "field_staff"])
    assert unlinked.exit_code != 0 and "--staff" in unlinked.output
    unknown = runner.invoke(main, ["user", "add", "nia", "--role", "field_staff", "--staff",
                                   "999"])
    assert unknown.exit_code != 0 and "no member of staff" in unknown.output
    made = runner.invoke(main, ["user", "add", "nia", "--role", "field_staff", "--staff",
                                str(staff_id)])
    assert made.exit_code == 0, made.output
    with get_database(create_app({"DATABASE_URL": url})).session_scope() as own:
        user = own.scalars(sa.select(m.User).where(m.User.username == "nia")).one()
        assert user.staff_id == staff_id

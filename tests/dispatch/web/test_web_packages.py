"""The care package approval page: cost, threshold and who must approve; Approve and Reject
(with a reason) for coordinators within their limit; above it the page says who decides."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.services import packages as svc
from dispatch.services import tariffs
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import NOW, office_client
from tests.dispatch.web.test_web_support import audit_actions

TODAY = date(2026, 12, 1)


def _submitted(session: so.Session, units: float, weeks: int) -> tuple[m.CarePackage, int]:
    tariffs.ensure_default_tariff(session, TODAY)
    network = f.network(session)
    patient = f.patient(session, network_id=network.id, lat=51.512, lon=-0.225)
    actor = Actor(None, "coord", "coordinator")
    package = svc.create_package(session, patient_id=patient.id, start_date=TODAY, end_date=None,
                                 lines=[svc.LineRequest("home_care_hour", units, weeks)],
                                 actor=actor, now=NOW)
    svc.submit_package(session, package_id=package.id, actor=actor, now=NOW)
    session.commit()
    return package, network.id


def test_package_page_shows_cost_threshold_and_approver(app: Flask, session: so.Session) -> None:
    """A package within the coordinator's limit: cost, who must approve, and the buttons."""
    package, network_id = _submitted(session, 7, 4)
    client, _ = office_client(app, session, "coordinator", network_id=network_id)
    html = client.get(f"/packages/{package.id}").get_data(as_text=True)
    assert svc.pounds(package.total_cost_pence) in html
    assert 'id="approver">A coordinator<' in html and "£5,000.00" in html
    assert 'id="approve"' in html and 'id="reject"' in html
    assert "view_package" in audit_actions(session)


def test_package_approve_within_limit(app: Flask, session: so.Session) -> None:
    """Approve saves the decision and redirects back to the page (PRG)."""
    package, network_id = _submitted(session, 7, 4)
    client, _ = office_client(app, session, "coordinator", network_id=network_id)
    response = client.post(f"/packages/{package.id}/approve", data={"note": "agreed"})
    assert response.status_code == 303
    session.expire_all()
    assert session.get(m.CarePackage, package.id).status == "approved"  # type: ignore[union-attr]


def test_package_above_limit_says_manager_and_refuses(app: Flask, session: so.Session) -> None:
    """Above £5,000 a coordinator sees why not and no buttons; forcing a post is refused and
    audited."""
    package, network_id = _submitted(session, 14, 12)
    assert package.total_cost_pence > 500_000
    client, _ = office_client(app, session, "coordinator", network_id=network_id)
    html = client.get(f"/packages/{package.id}").get_data(as_text=True)
    assert 'id="approver">A manager<' in html and 'id="refusal"' in html
    assert 'id="approve"' not in html
    response = client.post(f"/packages/{package.id}/approve", data={})
    assert response.status_code == 403 and "above your approval limit" in response.get_data(
        as_text=True)
    assert "package_decision_refused" in audit_actions(session)


def test_package_reject_needs_reason(app: Flask, session: so.Session) -> None:
    """Reject without a long enough reason shows the error; with one it is rejected."""
    package, _ = _submitted(session, 7, 4)
    client, _ = office_client(app, session, "manager")
    short = client.post(f"/packages/{package.id}/reject", data={"reason": "no"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.get_data(as_text=True)
    done = client.post(f"/packages/{package.id}/reject", data={"reason": "cheaper option found"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get(m.CarePackage, package.id).status == "rejected"  # type: ignore[union-attr]

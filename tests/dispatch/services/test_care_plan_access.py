"""Who reads a care plan (H-009): every role through the API, the pages that show a plan, the
emergency override and its report, episode consent from FHIR, and the consent page."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.cli import main
from tests.conftest import FIXED_NOW
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import worker_client
from tests.dispatch.web.test_web_support import (
    add_web_user,
    audit_actions,
    csrf_token,
    patient_with_plan,
    sign_in,
    signed_in_client,
    web_client,
)

API_NOW = datetime.fromisoformat(FIXED_NOW)
REASON = "Patient collapsed, cannot speak; need allergies and DNACPR"


def _plan_for(session: so.Session, *, consent: bool) -> m.Patient:
    return patient_with_plan(session, consent=consent)


def _worker(session: so.Session, patient: m.Patient, visit: str | None) -> int:
    """A worker, with a visit to ``patient`` in the state named: ``open``, ``closed_3d``
    (completed three days ago), ``closed_8d``, ``cancelled_2d``, ``other`` (someone else's
    visit) or None (no visit at all). Returns the staff id."""
    net = session.scalar(sa.select(m.Network)) or f.network(session)
    worker = f.staff(session, code=f"W{visit}", phone="+447700900099", network_id=net.id)
    if visit is None:
        session.commit()
        return worker.id
    referral = f.referral(session, patient.id, network_id=net.id)
    if visit == "open":
        f.visit(session, referral.id, patient.id, assigned_staff_id=worker.id, status="assigned")
    elif visit in ("closed_3d", "closed_8d"):
        done = API_NOW - timedelta(days=3 if visit == "closed_3d" else 8)
        f.visit(session, referral.id, patient.id, assigned_staff_id=worker.id,
                status="completed", outcome="visit_completed", earliest_start=done,
                deadline=done, completed_at=done)
    elif visit == "cancelled_2d":
        f.visit(session, referral.id, patient.id, assigned_staff_id=worker.id, status="cancelled",
                updated_at=API_NOW - timedelta(days=2))
    elif visit == "other":
        someone = f.staff(session, code="W-else", phone="+447700900098", network_id=net.id)
        f.visit(session, referral.id, patient.id, assigned_staff_id=someone.id,
                status="assigned")
    session.commit()
    return worker.id


# role, staff visit (field staff only; "unlinked" = no staff link), consent, override,
# expected status, expected basis or refusal code in the audit trail
CASES = [
    ("call_handler", None, True, False, 200, "consent"),
    ("coordinator", None, True, False, 200, "consent"),
    ("admin", None, True, False, 200, "consent"),
    ("manager", None, True, False, 403, None),  # not in the permission table at all
    ("field_staff", "open", True, False, 200, "consent"),
    ("field_staff", "closed_3d", True, False, 200, "consent"),
    ("field_staff", "cancelled_2d", True, False, 200, "consent"),
    ("field_staff", "closed_8d", True, False, 403, "no_care_relationship"),
    ("field_staff", None, True, False, 403, "no_care_relationship"),
    ("field_staff", "other", True, False, 403, "no_care_relationship"),
    ("field_staff", "unlinked", True, False, 403, "no_care_relationship"),
    ("call_handler", None, False, False, 403, "no_consent"),
    ("call_handler", None, False, True, 200, "emergency_override"),
    ("coordinator", None, False, True, 200, "emergency_override"),
    ("admin", None, False, True, 403, "override_not_allowed"),
    ("field_staff", "open", False, True, 403, "override_not_allowed"),
    ("field_staff", "open", False, False, 403, "no_consent"),
]


@pytest.mark.safety("H-009")
@pytest.mark.parametrize(("role", "visit", "consent", "override", "status", "outcome"), CASES)
def test_care_plan_api_every_role(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session,
    role: str, visit: str | None, consent: bool, override: bool, status: int,
    outcome: str | None,
) -> None:
    """Each role and care relationship gets exactly the access the rules give it, and every
    read or refusal is in the audit trail with its basis or reason."""
    patient = _plan_for(session, consent=consent)
    staff_id = None
    if role == "field_staff" and visit != "unlinked":
        staff_id = _worker(session, patient, visit)
    query: dict[str, Any] = {"purpose": "attend visit"}
    if override:
        query |= {"override_purpose": "emergency_care", "override_reason": REASON}

    response = client.get(f"/api/patients/{patient.id}/care-plan", query_string=query,
                          headers=token_for(role, staff_id=staff_id))

    assert response.status_code == status, response.json
    session.expire_all()
    events = list(session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.patient_id == patient.id)))
    if status == 200:
        assert response.json["access_basis"] == outcome
        assert "Lives alone" in response.json["summary"]
        [event] = events
        assert event.details["basis"] == outcome
    elif outcome is not None:
        assert "summary" not in response.json
        [event] = events
        assert (event.action, event.details["refused"]) == ("care_plan_refused", outcome)
    else:
        assert events == []


@pytest.mark.safety("H-009")
def test_care_plan_api_override_needs_a_listed_purpose(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A reason alone, a purpose not on the list, or a token reason is 422, not a read."""
    patient = _plan_for(session, consent=False)
    headers = token_for("coordinator")
    url = f"/api/patients/{patient.id}/care-plan"
    alone = client.get(url, query_string={"override_reason": REASON}, headers=headers)
    unlisted = client.get(url, query_string={"override_purpose": "curiosity",
                                             "override_reason": REASON}, headers=headers)
    short = client.get(url, query_string={"override_purpose": "safeguarding",
                                          "override_reason": "urgent"}, headers=headers)
    assert alone.status_code == unlisted.status_code == short.status_code == 422
    assert "override_purpose" in json.dumps(alone.json["errors"])
    assert "override_purpose" in json.dumps(unlisted.json["errors"])
    assert "override_reason" in json.dumps(short.json["errors"])
    assert "care_plan_override" not in audit_actions(session, patient_id=patient.id)


@pytest.mark.safety("H-009")
def test_care_plan_override_audited_with_purpose_and_text(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """An override is its own audit action carrying the purpose code and the free text, so the
    Caldicott guardian's report can list it."""
    patient = _plan_for(session, consent=False)
    response = client.get(f"/api/patients/{patient.id}/care-plan", query_string={
        "override_purpose": "safeguarding", "override_reason": REASON},
        headers=token_for("call_handler", username="ann"))
    assert response.status_code == 200 and response.json["override_purpose"] == "safeguarding"
    session.expire_all()
    [event] = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.patient_id == patient.id))
    assert (event.action, event.username, event.purpose) == (
        "care_plan_override", "ann", f"Safeguarding: {REASON}")
    assert event.details == {"basis": "emergency_override", "override_purpose": "safeguarding",
                             "override_text": REASON}


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.safety("H-009")
def test_handler_panel_admin_gets_no_override(app: Flask, session: so.Session) -> None:
    """An administrator sees no override form on the patient panel, and a forged override post
    is refused (403) and audited."""
    patient = _plan_for(session, consent=False)
    client = signed_in_client(app, session, "admin")
    html = client.get(f"/referrals/new?patient={patient.id}").get_data(as_text=True)
    assert "No recorded consent" in html and "View the care plan in an emergency" not in html
    forged = client.post("/referrals/new/care-plan", data={
        "patient_id": str(patient.id), "purpose": "risk_to_life", "reason": REASON})
    assert forged.status_code == 403 and "key safe" not in forged.get_data(as_text=True)
    assert "care_plan_refused" in audit_actions(session, patient_id=patient.id)
    assert "care_plan_override" not in audit_actions(session, patient_id=patient.id)


@pytest.mark.safety("H-009")
def test_handler_panel_coordinator_override_shows_plan(app: Flask, session: so.Session) -> None:
    """A coordinator chooses a purpose and explains: the plan is shown, marked as emergency
    access with the purpose."""
    patient = _plan_for(session, consent=False)
    client = signed_in_client(app, session, "coordinator")
    response = client.post("/referrals/new/care-plan", data={
        "patient_id": str(patient.id), "purpose": "emergency_care", "reason": REASON})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Lives alone; key safe 1234" in html
    assert "Emergency care - patient unable to consent" in html


def _day_visit(session: so.Session, *, closed_days: int | None) -> tuple[m.Staff, m.Visit]:
    patient = _plan_for(session, consent=True)
    net = f.network(session)
    worker = f.staff(session, network_id=net.id)
    referral = f.referral(session, patient.id, network_id=net.id)
    if closed_days is None:
        visit = f.visit(session, referral.id, patient.id, assigned_staff_id=worker.id,
                        status="offered", network_id=net.id)
    else:
        done = API_NOW - timedelta(days=closed_days)
        visit = f.visit(session, referral.id, patient.id, assigned_staff_id=worker.id,
                        status="completed", outcome="visit_completed", earliest_start=done,
                        deadline=done, completed_at=done, network_id=net.id)
    session.commit()
    return worker, visit


@pytest.mark.safety("H-009")
@pytest.mark.parametrize(("closed_days", "shown"), [(None, True), (6, True), (8, False)])
def test_visit_page_care_plan_only_within_seven_days(
    app: Flask, session: so.Session, closed_days: int | None, shown: bool
) -> None:
    """The worker's own visit page shows the plan while the visit is open or closed in the
    last 7 days; after that the page says why it is not shown and nothing is read."""
    worker, visit = _day_visit(session, closed_days=closed_days)
    html = worker_client(app, session, worker).get(f"/visits/{visit.reference}").get_data(
        as_text=True)
    assert ("Lives alone; key safe 1234" in html) is shown
    assert ("view_care_plan" in audit_actions(session)) is shown
    if not shown:
        assert "closed in the last 7 days" in html


@pytest.mark.safety("H-009")
@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_visit_page_coordinator_reads_with_consent_only(
    app: Flask, session: so.Session, role: str
) -> None:
    """Coordinators and admins opening any visit see the plan only with consent (no override
    there); call handlers and managers cannot open the visit page at all."""
    _, visit = _day_visit(session, closed_days=None)
    patient = session.get_one(m.Patient, visit.patient_id)
    for other in ("call_handler", "manager"):
        assert signed_in_client(app, session, other).get(
            f"/visits/{visit.reference}").status_code == 403
    client = signed_in_client(app, session, role)
    assert "Lives alone" in client.get(f"/visits/{visit.reference}").get_data(as_text=True)
    patient.consent_to_share = False
    patient.consent_recorded_by = patient.consent_recorded_at = None
    session.commit()
    html = client.get(f"/visits/{visit.reference}").get_data(as_text=True)
    assert "Lives alone" not in html and "has not consented" in html


# --- episode consent from FHIR ---------------------------------------------------------------

FIXTURES = Path(__file__).parents[1] / "fhir_fixtures"


@pytest.mark.safety("H-009")
def test_fhir_consent_covers_the_episode_only(
    client: FlaskClient, token_for: Callable[..., dict[str, str]], session: so.Session
) -> None:
    """A Consent in a BaRS message never changes the patient's recorded consent (a patient who
    withdrew stays withdrawn); it opens the plan for reads made for that referral only."""
    patient = _plan_for(session, consent=False)
    session.add(m.ConsentRecord(patient_id=patient.id, decision="withdrawn", given_by="patient",
                                scope="care_plan_direct_care", recorded_by="ann", at=f.NOW))
    f.network(session)
    session.commit()
    body = json.loads((FIXTURES / "referral_111_fall.json").read_text())
    handler = token_for("call_handler")
    response = client.post("/fhir/$process-message", data=json.dumps(body),
                           headers={**handler, "Content-Type": "application/fhir+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    session.expire_all()
    referral = session.scalars(sa.select(m.Referral)).one()
    assert referral.patient_id == patient.id
    assert referral.episode_consent_by == "NHS 111 North West London"
    assert not session.get_one(m.Patient, patient.id).consent_to_share

    url = f"/api/patients/{patient.id}/care-plan"
    with_referral = client.get(url, query_string={"referral_id": referral.id}, headers=handler)
    without = client.get(url, headers=handler)
    assert with_referral.status_code == 200
    assert with_referral.json["access_basis"] == "episode_consent"
    assert without.status_code == 403
    other = f.referral(session, patient.id)
    session.commit()
    assert client.get(url, query_string={"referral_id": other.id},
                      headers=handler).status_code == 403


# --- the audit page and the Caldicott guardian's report --------------------------------------


def _override_event(session: so.Session, patient_id: int, at: datetime, text: str) -> None:
    session.add(m.AuditEvent(
        at=at, username="ann", role="call_handler", action="care_plan_override",
        entity_type="care_plan", patient_id=patient_id, purpose=f"Immediate risk to life: {text}",
        details={"basis": "emergency_override", "override_purpose": "risk_to_life",
                 "override_text": text}))
    session.commit()


@pytest.mark.safety("H-009")
def test_audit_page_highlights_overrides(app: Flask, session: so.Session) -> None:
    """Override rows stand out on the audit trail (a tag and a marked row)."""
    patient = _plan_for(session, consent=False)
    _override_event(session, patient.id, API_NOW - timedelta(hours=1), "collapsed at home")
    html = signed_in_client(app, session, "admin").get("/admin/audit").get_data(as_text=True)
    row = html[html.index('app-audit-override"'):]
    assert "Emergency override" in row[:600] and "care_plan_override" in row[:600]


@pytest.mark.safety("H-009")
def test_override_report_lists_the_days_overrides(app: Flask, session: so.Session) -> None:
    """The daily report names who, which patient, the purpose, the text and when, for that
    London day only; the CLI prints the same entries as JSON."""
    patient = _plan_for(session, consent=False)
    _override_event(session, patient.id, datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
                    "collapsed at home")
    _override_event(session, patient.id, datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
                    "yesterday's emergency")
    client = signed_in_client(app, session, "admin")
    html = client.get("/admin/overrides?date=2026-12-01").get_data(as_text=True)
    assert "1 emergency override." in html and "collapsed at home" in html
    assert "Immediate risk to life" in html and f">{patient.id}<" in html and "ann" in html
    assert "yesterday" not in html
    assert client.get("/admin/overrides?date=soon").status_code == 422
    coordinator = signed_in_client(app, session, "coordinator")
    assert coordinator.get("/admin/overrides").status_code == 403


@pytest.mark.safety("H-009")
def test_cli_audit_overrides_json(
    session: so.Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`dispatch audit overrides --date D --json` lists the day's overrides."""
    from dispatch import create_app
    from dispatch.db import get_database
    from dispatch.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DISPATCH_DATABASE_URL", url)
    with get_database(create_app({"DATABASE_URL": url})).session_scope() as own:
        patient = f.patient(own)
        own.add(m.AuditEvent(
            at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC), username="ann", role="coordinator",
            action="care_plan_override", patient_id=patient.id,
            details={"override_purpose": "safeguarding", "override_text": "bruising seen"}))
    result = CliRunner().invoke(main, ["audit", "overrides", "--date", "2026-12-01", "--json"])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)["overrides"]
    assert (entry["username"], entry["purpose_label"], entry["text"]) == (
        "ann", "Safeguarding", "bruising seen")
    assert CliRunner().invoke(main, ["audit", "overrides", "--date", "x"]).exit_code != 0


# --- the consent page ------------------------------------------------------------------------


@pytest.mark.safety("H-009")
def test_consent_page_record_and_withdraw_with_csrf(app: Flask, session: so.Session) -> None:
    """Consent is recorded and withdrawn on the page (CSRF token required): who, when and scope
    are kept, each decision is audited, and after withdrawal the plan is no longer shared."""
    patient = _plan_for(session, consent=False)
    client = web_client(app, csrf=True)
    user = add_web_user(session, "call_handler")
    page = client.get("/sign-in").get_data(as_text=True)
    client.post("/sign-in", data={"username": user.username, "password": "correct horse "
                                  "battery staple", "csrf_token": csrf_token(page)})
    url = f"/patients/{patient.id}/consent"
    page = client.get(url).get_data(as_text=True)
    assert "Not recorded" in page
    assert client.post(url, data={"given_by": "patient"}).status_code == 400  # no token

    recorded = client.post(url, data={"given_by": "patient", "scope": "care_plan_direct_care",
                                      "csrf_token": csrf_token(page)})
    assert recorded.status_code == 303
    session.expire_all()
    row = session.get_one(m.Patient, patient.id)
    assert row.consent_to_share and row.consent_recorded_by == user.username
    assert row.consent_recorded_at == API_NOW

    page = client.get(url).get_data(as_text=True)
    assert "Given" in page and "The patient" in page
    withdrawn = client.post(f"{url}/withdraw", data={
        "given_by": "attorney", "scope": "care_plan_direct_care", "csrf_token": csrf_token(page)})
    assert withdrawn.status_code == 303
    session.expire_all()
    assert not session.get_one(m.Patient, patient.id).consent_to_share
    history = session.scalars(sa.select(m.ConsentRecord).order_by(m.ConsentRecord.id)).all()
    assert [(r.decision, r.given_by, r.scope, r.recorded_by) for r in history] == [
        ("given", "patient", "care_plan_direct_care", user.username),
        ("withdrawn", "attorney", "care_plan_direct_care", user.username)]
    actions = audit_actions(session, patient_id=patient.id)
    assert actions.count("view_consent") == 2
    assert "record_consent" in actions and "withdraw_consent" in actions
    panel = client.get(f"/referrals/new?patient={patient.id}").get_data(as_text=True)
    assert "No recorded consent" in panel and "key safe" not in panel


@pytest.mark.safety("H-009")
def test_consent_page_errors_and_roles(app: Flask, session: so.Session) -> None:
    """No choice of who decided is a 422 with the error linked; recording twice is a 409;
    field staff, managers and admins cannot use the page."""
    patient = _plan_for(session, consent=True)
    client = signed_in_client(app, session, "coordinator")
    url = f"/patients/{patient.id}/consent"
    missing = client.post(f"{url}/withdraw", data={"scope": "care_plan_direct_care"})
    assert missing.status_code == 422 and 'href="#given_by"' in missing.get_data(as_text=True)
    twice = client.post(url, data={"given_by": "patient", "scope": "care_plan_direct_care"})
    assert twice.status_code == 409 and "already recorded" in twice.get_data(as_text=True)
    for role in ("field_staff", "manager", "admin"):
        other = web_client(app)
        assert sign_in(other, add_web_user(session, role).username).status_code == 303
        assert other.get(url).status_code == 403


def test_openapi_documents_the_override_request(client: FlaskClient) -> None:
    """The OpenAPI description lists the override's purposes and the episode's referral_id."""
    doc = client.get("/api/openapi.json").json
    params = {p["name"]: p for p in
              doc["paths"]["/api/patients/{patient_id}/care-plan"]["get"]["parameters"]}
    assert params["override_purpose"]["schema"]["enum"] == [
        "emergency_care", "safeguarding", "risk_to_life"]
    assert {"override_reason", "referral_id", "purpose"} <= set(params)

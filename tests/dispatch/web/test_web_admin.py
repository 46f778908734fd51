"""The audit trail page (issues 8, 14): admins and managers, filters (NHS number too), actions
in words, pagination, CSV columns, read-only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import orm as so

from dispatch.actors import Actor
from dispatch.services import audit
from dispatch.services.audit_view import CSV_COLUMNS, PER_PAGE
from tests.dispatch import factories as f
from tests.dispatch.web.test_web_day import office_client

WHEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _events(session: so.Session, n: int) -> int:
    patient = f.patient(session)
    actor = Actor(user_id=None, username="nurse-a", role="field_staff")
    for i in range(n):
        audit.record(session, actor=actor, action="view_visit", now=WHEN + timedelta(minutes=i),
                     patient_id=patient.id if i % 2 == 0 else None, entity=("visit", i),
                     purpose="=attend visit" if i == 0 else "attend visit")
    session.commit()
    return patient.id


def test_audit_page_filters_by_patient(app: Flask, session: so.Session) -> None:
    """Filtering by patient shows only that patient's events, counted."""
    patient_id = _events(session, 6)
    client, _ = office_client(app, session, "admin")
    html = client.get(f"/admin/audit?patient_id={patient_id}").get_data(as_text=True)
    assert "3 events" in html and html.count("nurse-a") == 3


def test_audit_page_paginates(app: Flask, session: so.Session) -> None:
    """More than a page of events gives a second page with an Older link."""
    _events(session, PER_PAGE + 5)
    client, _ = office_client(app, session, "admin")
    first = client.get("/admin/audit?user=nurse-a").get_data(as_text=True)
    assert "page 1 of 2" in first and 'id="older"' in first
    second = client.get("/admin/audit?user=nurse-a&page=2").get_data(as_text=True)
    assert second.count('role="row"') == 1 + 5 and "page 2 of 2" in second  # header + 5


def test_audit_page_bad_filter_shows_error(app: Flask, session: so.Session) -> None:
    """A patient id that is not a number gets the NHS error summary, 422."""
    client, _ = office_client(app, session, "admin")
    response = client.get("/admin/audit?patient_id=abc")
    assert response.status_code == 422
    assert "Enter the patient id as a whole number" in response.get_data(as_text=True)


def test_audit_csv_columns_and_formula_guard(app: Flask, session: so.Session) -> None:
    """The CSV has the documented columns; a purpose starting with = cannot become a formula;
    the export itself is logged against the patient it was about."""
    patient_id = _events(session, 4)
    client, _ = office_client(app, session, "admin")
    response = client.get(f"/admin/audit.csv?patient_id={patient_id}&date_from=2026-11-30")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 4  # two events, then this export
    assert rows[-1][CSV_COLUMNS.index("action")] == "export_audit"
    assert rows[1][CSV_COLUMNS.index("purpose")] == "'=attend visit"
    assert rows[1][CSV_COLUMNS.index("patient_id")] == str(patient_id)


def test_audit_page_views_are_audited_and_admin_only(app: Flask, session: so.Session) -> None:
    """Looking at the trail is itself recorded; other roles are refused."""
    client, _ = office_client(app, session, "admin")
    client.get("/admin/audit?action=sign_in")
    html = client.get("/admin/audit?action=view_audit").get_data(as_text=True)
    assert "view_audit" in html and "audit review" in html
    coordinator, _ = office_client(app, session, "coordinator")
    assert coordinator.get("/admin/audit").status_code == 403
    assert coordinator.get("/admin/audit.csv").status_code == 403


def test_audit_has_no_write_routes(app: Flask) -> None:
    """No route under /admin/audit accepts anything but GET (read-only by construction)."""
    methods = {m for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin/audit")
               for m in rule.methods or ()}
    assert methods <= {"GET", "HEAD", "OPTIONS"}


def test_audit_page_finds_a_patient_by_nhs_number(app: Flask, session: so.Session) -> None:
    """An NHS number typed with spaces narrows the trail to that patient's events."""
    _events(session, 6)  # Joe Bloggs, 943 476 5919: 3 of the 6 events name him
    client, _ = office_client(app, session, "admin")
    html = client.get("/admin/audit?nhs_number=943+476+5919").get_data(as_text=True)
    assert "3 events" in html
    bad = client.get("/admin/audit?nhs_number=943+476+5918")
    assert bad.status_code == 422 and 'href="#nhs_number"' in bad.get_data(as_text=True)


def test_audit_page_actions_in_words_and_system_jobs(app: Flask, session: so.Session) -> None:
    """Actions read as words ("Viewed a visit"), in the filter too; what the service did by
    itself is "system", without a role."""
    from dispatch.actors import SYSTEM

    _events(session, 1)
    audit.record(session, actor=SYSTEM, action="visit_jeopardy", now=WHEN, purpose="watch")
    session.commit()
    client, _ = office_client(app, session, "admin")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert ">Viewed a visit<" in html and ">Flagged a visit in jeopardy<" in html
    assert '<option value="view_visit" >Viewed a visit</option>' in html
    assert ">system<" in html and "system (admin)" not in html


def test_managers_may_read_the_audit_trail(app: Flask, session: so.Session) -> None:
    """Managers read the trail and download it; the Caldicott report stays with admins."""
    _events(session, 2)
    client, _ = office_client(app, session, "manager")
    html = client.get("/admin/audit").get_data(as_text=True)
    assert 'id="audit-events"' in html and "override-report-link" not in html
    assert client.get("/admin/audit.csv").status_code == 200
    assert client.get("/admin/overrides").status_code == 403

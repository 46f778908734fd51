"""Field staff's visit page (issue 5/8): own visits only, care plan under consent, every view
audited, and accept / decline / arrived / done through the SMS state machine with PRG."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from tests.dispatch.web.test_web_day import make_day, office_client, worker_client
from tests.dispatch.web.test_web_support import audit_actions


def _events(session: so.Session, action: str) -> list[m.AuditEvent]:
    return list(session.scalars(sa.select(m.AuditEvent).where(m.AuditEvent.action == action)))


def test_visit_page_shows_own_visit_with_care_plan_and_audits(
    app: Flask, session: so.Session
) -> None:
    """The worker sees address, access notes, reason and the consented care plan; the view and
    the care plan read are audited with the purpose "attend visit"."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    response = client.get("/visits/4821")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 Wood Lane" in html and "W12 7RQ" in html and "Key safe by the door" in html
    assert "Sudden confusion" in html and "Lives alone; early dementia" in html
    assert 'id="accept"' in html and 'id="decline"' in html
    session.expire_all()
    views = _events(session, "view_visit")
    plans = _events(session, "view_care_plan")
    assert [e.purpose for e in views] == ["attend visit"]
    assert [e.purpose for e in plans] == ["attend visit"] and plans[0].patient_id == day.patient.id


def test_visit_page_other_workers_visit_is_not_found(app: Flask, session: so.Session) -> None:
    """A worker cannot open a visit assigned to someone else (404, revealing nothing)."""
    make_day(session)
    day_client = worker_client(app, session, session.scalars(
        sa.select(m.Staff).where(m.Staff.code == "S1")).one())
    response = day_client.get("/visits/5555")
    assert response.status_code == 404
    assert "1 Wood Lane" not in response.get_data(as_text=True)


def test_visit_page_coordinator_may_view_any_without_actions(
    app: Flask, session: so.Session
) -> None:
    """Coordinators open any visit, but only the assigned worker gets the action buttons."""
    make_day(session)
    client, _ = office_client(app, session, "coordinator")
    html = client.get("/visits/5555").get_data(as_text=True)
    assert "1 Wood Lane" in html and 'id="accept"' not in html


def test_visit_page_without_consent_hides_care_plan(app: Flask, session: so.Session) -> None:
    """No recorded consent: the plan is not shown and no care plan read is logged."""
    day = make_day(session)
    day.patient.consent_to_share = False
    day.patient.consent_recorded_by = day.patient.consent_recorded_at = None
    session.commit()
    html = worker_client(app, session, day.nurse).get("/visits/4821").get_data(as_text=True)
    assert "Lives alone; early dementia" not in html and "has not consented" in html
    assert "view_care_plan" not in audit_actions(session)


def test_visit_accept_then_arrive_then_complete(app: Flask, session: so.Session) -> None:
    """Accept, Arrived and Done with an outcome each redirect (PRG) and move the visit."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    accepted = client.post("/visits/4821/accept")
    assert accepted.status_code == 303 and accepted.headers["Location"] == "/visits/4821"
    assert "You accepted visit 4821" in client.get("/visits/4821").get_data(as_text=True)
    assert client.post("/visits/4821/arrive").status_code == 303
    done = client.post("/visits/4821/complete", data={"outcome": "escalated_to_gp"})
    assert done.status_code == 303
    session.expire_all()
    visit = session.get(m.Visit, day.mine.id)
    assert visit is not None and visit.status == "completed" and visit.outcome == "escalated_to_gp"
    assert {"accept_visit", "arrive_visit", "complete_visit"} <= set(audit_actions(session))


def test_visit_accept_twice_shows_conflict_message(app: Flask, session: so.Session) -> None:
    """A stale action (accepting again) shows the service's Conflict message with 409."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    client.post("/visits/4821/accept")
    again = client.post("/visits/4821/accept")
    assert again.status_code == 409
    assert "You have already accepted visit 4821" in again.get_data(as_text=True)


def test_visit_complete_needs_outcome(app: Flask, session: so.Session) -> None:
    """Done without an outcome is refused with the field error, nothing saved."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    client.post("/visits/4821/arrive")
    response = client.post("/visits/4821/complete", data={"outcome": ""})
    assert response.status_code == 422
    assert "Choose the outcome of the visit" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(m.Visit, day.mine.id).status == "on_site"  # type: ignore[union-attr]


def test_visit_decline_records_reason_and_goes_to_list(app: Flask, session: so.Session) -> None:
    """Decline needs a reason; the visit is unassigned and the worker lands on their list."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    assert client.post("/visits/4821/decline", data={"reason": ""}).status_code == 422
    response = client.post("/visits/4821/decline", data={"reason": "too_far", "details": "M4 shut"})
    assert response.status_code == 303 and response.headers["Location"] == "/my-visits"
    session.expire_all()
    assert session.get(m.Visit, day.mine.id).status == "unassigned"  # type: ignore[union-attr]
    declined = _events(session, "decline_visit")
    assert declined[0].details["reason"] == "Too far away: M4 shut"
    assert client.get("/visits/4821").status_code == 404


def test_visit_action_on_other_workers_visit_is_not_found(app: Flask, session: so.Session) -> None:
    """Posting an action for someone else's visit is a 404 and changes nothing."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    assert client.post("/visits/5555/accept").status_code == 404
    session.expire_all()
    assert session.get(m.Visit, day.theirs.id).status == "offered"  # type: ignore[union-attr]


def test_my_visits_lists_only_own_visits(app: Flask, session: so.Session) -> None:
    """My visits today shows the worker's own visit and not the colleague's."""
    day = make_day(session)
    html = worker_client(app, session, day.nurse).get("/my-visits").get_data(as_text=True)
    assert "Visit 4821" in html and "5555" not in html


def test_field_staff_sign_in_lands_on_my_visits(app: Flask, session: so.Session) -> None:
    """The field staff role's home is their visit list."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    assert client.get("/").headers["Location"] == "/my-visits"


def test_visit_action_needs_csrf_token(app: Flask, session: so.Session) -> None:
    """With CSRF on (as in production) an action without the form's token is refused."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/visits/4821/accept").status_code == 400
    session.expire_all()
    assert session.get(m.Visit, day.mine.id).status == "offered"  # type: ignore[union-attr]


def test_visit_page_tap_to_call_and_directions(app: Flask, session: so.Session) -> None:
    """The patient's number is a tel: link; the address has a directions link built from the
    address and postcode (a link only: the page fetches nothing from a maps site)."""
    day = make_day(session)
    day.patient.phone = "020 7946 0001"
    session.commit()
    html = worker_client(app, session, day.nurse).get("/visits/4821").get_data(as_text=True)
    assert 'href="tel:02079460001"' in html and "Call 020 7946 0001" in html
    assert ('href="https://www.google.com/maps/dir/?api=1&amp;destination=1+Wood+Lane%2C+W12+7RQ"'
            in html)
    assert 'href="geo:' in html and "q=1%20Wood%20Lane%2C%20W12%207RQ" in html
    assert "<img" not in html and "<iframe" not in html


def test_visit_done_with_notes_and_observations(app: Flask, session: so.Session) -> None:
    """Done takes notes and simple observations with the outcome; they are kept on the visit
    and shown; once arrived the page gives arrival and completion times, not a countdown."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    client.post("/visits/4821/arrive")
    on_site = client.get("/visits/4821").get_data(as_text=True)
    assert 'id="arrived"' in on_site and "app-countdown" not in on_site
    assert 'id="notes"' in on_site and 'id="pulse"' in on_site
    done = client.post("/visits/4821/complete", data={
        "outcome": "visit_completed", "notes": "Settled; daughter staying tonight",
        "pulse": "88", "temperature": "37.2", "spo2": ""})
    assert done.status_code == 303
    session.expire_all()
    visit = session.scalars(sa.select(m.Visit).where(m.Visit.reference == "4821")).one()
    assert visit.outcome_notes == "Settled; daughter staying tonight"
    assert visit.outcome_observations == {"pulse": 88.0, "temperature": 37.2}
    html = client.get("/visits/4821").get_data(as_text=True)
    assert 'id="completed"' in html and "Settled; daughter staying tonight" in html
    record = html[html.index("outcome-record"):]
    assert "Pulse (beats a minute)" in record and "88" in record, record[:1500]


def test_visit_done_refuses_an_impossible_observation(app: Flask, session: so.Session) -> None:
    """An SpO2 of 140 is refused with a message on the field; the visit stays on site."""
    day = make_day(session)
    client = worker_client(app, session, day.nurse)
    client.post("/visits/4821/arrive")
    response = client.post("/visits/4821/complete", data={"outcome": "visit_completed",
                                                         "spo2": "140"})
    assert response.status_code == 422
    assert "SpO2 must be between 50 and 100" in response.get_data(as_text=True)


def test_my_visits_flags_late_visits(app: Flask, session: so.Session) -> None:
    """A visit whose deadline has passed without an arrival is flagged late on "My visits"."""
    from datetime import timedelta

    from tests.dispatch.web.test_web_day import NOW

    day = make_day(session)
    day.mine.deadline = NOW - timedelta(minutes=25)
    day.mine.earliest_start = NOW - timedelta(hours=2)
    session.commit()
    html = worker_client(app, session, day.nurse).get("/my-visits").get_data(as_text=True)
    assert "Late: deadline passed 25 min ago" in html

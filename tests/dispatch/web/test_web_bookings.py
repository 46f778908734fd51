"""Booking a visit to start after its deadline: warn, need a clinician's approval for
timeframes of 6 hours or less, log it for reports (CLINICAL.md, "Response standards")."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput
from dispatch.services import bookings
from tests.dispatch import factories as f
from tests.dispatch.factories import NOW
from tests.dispatch.web.test_web_support import patient_with_plan, referral_form, signed_in_client

ACTOR = Actor(user_id=None, username="ann", role="call_handler")


def _visit(session: so.Session, *, category: str = "urgent_2h", hours: int = 2,
           status: str = "unassigned", **kw: object) -> m.Visit:
    patient = f.patient(session)
    referral = f.referral(session, patient.id, category=category,
                          deadline=NOW + timedelta(hours=hours), **kw)
    extra = ({"assigned_staff_id": f.staff(session).id, "pinned": True}
             if status == "accepted" else {})
    return f.visit(session, referral.id, patient.id, category=category, status=status,
                   deadline=NOW + timedelta(hours=hours), **extra)


def test_booking_within_deadline_moves_only_the_start(session: so.Session) -> None:
    """A start before the deadline needs no approval; the deadline stays."""
    visit = _visit(session)
    start = NOW + timedelta(hours=1)
    made = bookings.book_later_start(session, visit_id=visit.id, start=start, actor=ACTOR, now=NOW)
    assert not made.check.outside_timeframe
    assert (visit.earliest_start, visit.deadline) == (start, NOW + timedelta(hours=2))
    actions = session.scalars(sa.select(m.AuditEvent.action)).all()
    assert actions == [bookings.WITHIN_TIMEFRAME_ACTION]


def test_booking_outside_short_timeframe_needs_a_named_clinician(session: so.Session) -> None:
    """Past a 2-hour deadline, confirming with a reason is not enough: name the approver."""
    visit = _visit(session)
    with pytest.raises(InvalidInput) as caught:
        bookings.book_later_start(session, visit_id=visit.id, start=NOW + timedelta(hours=5),
                                  actor=ACTOR, now=NOW, reason="family asked for 2pm",
                                  confirmed=True)
    assert set(caught.value.errors) == {"approver_name", "approver_role"}
    assert visit.deadline == NOW + timedelta(hours=2)


def test_booking_outside_timeframe_warns_before_anything_changes(session: so.Session) -> None:
    """Without confirmation and reason the booking is refused, naming each missing part."""
    visit = _visit(session)
    with pytest.raises(InvalidInput) as caught:
        bookings.book_later_start(session, visit_id=visit.id, start=NOW + timedelta(hours=5),
                                  actor=ACTOR, now=NOW)
    assert {"confirm", "reason", "approver_name"} <= set(caught.value.errors)


def test_booking_outside_timeframe_with_approval_is_logged(session: so.Session) -> None:
    """An approved late booking moves the window and writes the audit event reports read."""
    visit = _visit(session)
    start = NOW + timedelta(hours=5)
    bookings.book_later_start(
        session, visit_id=visit.id, start=start, actor=ACTOR, now=NOW,
        reason="family asked for 2pm", confirmed=True,
        approval=bookings.Approval("Dr Patel", "GP"))
    assert visit.earliest_start == start and visit.deadline == start + bookings.BOOKED_SLOT
    [event] = bookings.bookings_outside_timeframe(session, since=NOW, until=NOW + timedelta(1))
    assert event.action == "booking_outside_timeframe" and event.username == "ann"
    assert event.details["original_deadline"] == (NOW + timedelta(hours=2)).isoformat()
    assert event.details["new_deadline"] == (start + bookings.BOOKED_SLOT).isoformat()
    assert event.details["approved_by"] == {"name": "Dr Patel", "role": "GP"}
    assert event.details["reason"] == "family asked for 2pm"


def test_booking_outside_long_timeframe_needs_no_approver(session: so.Session) -> None:
    """A 24-hour response booked late still warns, but a clinician need not approve."""
    visit = _visit(session, category="response_24h", hours=24)
    made = bookings.book_later_start(
        session, visit_id=visit.id, start=NOW + timedelta(hours=30), actor=ACTOR, now=NOW,
        reason="carer away until tomorrow", confirmed=True)
    assert made.check.outside_timeframe and not made.check.needs_approval
    assert made.check.timeframe == timedelta(hours=24)


def test_booking_pathways_six_hours_needs_approval(session: so.Session) -> None:
    """A Dx06 (6-hour) timeframe is 'six hours or less': the edge needs approval."""
    visit = _visit(session, category="response_24h", hours=6, pathways_timeframe_minutes=360)
    check = bookings.check_booking(visit.referral, visit,  # type: ignore[arg-type]
                                   start=NOW + timedelta(hours=7))
    assert check.timeframe == timedelta(hours=6) and check.needs_approval


def test_booking_accepted_visit_is_refused(session: so.Session) -> None:
    """A worker has committed to an accepted visit: the coordinator must move it."""
    visit = _visit(session, status="accepted")
    with pytest.raises(Conflict):
        bookings.book_later_start(session, visit_id=visit.id, start=NOW + timedelta(hours=1),
                                  actor=ACTOR, now=NOW)


def test_booking_in_the_past_is_refused(session: so.Session) -> None:
    """A start before now is a typing error."""
    visit = _visit(session)
    with pytest.raises(InvalidInput) as caught:
        bookings.book_later_start(session, visit_id=visit.id, start=NOW - timedelta(hours=1),
                                  actor=ACTOR, now=NOW)
    assert "start" in caught.value.errors


def _urgent_referral(app: Flask, session: so.Session) -> tuple[object, str]:
    patient = patient_with_plan(session, consent=True)
    client = signed_in_client(app, session, "call_handler")
    location = client.post("/referrals/new", data=referral_form(patient.id)).headers["Location"]
    return client, location


def test_booking_page_warns_and_asks_for_approval(app: Flask, session: so.Session) -> None:
    """On the result page a late start shows the warning and the approval errors."""
    client, location = _urgent_referral(app, session)
    html = client.post(f"{location}/booking", data={  # type: ignore[attr-defined]
        "start_day": "2026-12-01", "start_time": "16:00"}).get_data(as_text=True)
    assert "This start is after the deadline" in html
    assert "A clinician must approve this booking" in html
    assert 'href="#approver_name"' in html and 'href="#confirm"' in html
    assert session.scalars(sa.select(m.AuditEvent.action).where(
        m.AuditEvent.action == "booking_outside_timeframe")).all() == []


def test_booking_page_accepts_an_approved_late_start(app: Flask, session: so.Session) -> None:
    """With confirmation, reason and approver the booking is made, logged and announced."""
    client, location = _urgent_referral(app, session)
    response = client.post(f"{location}/booking", data={  # type: ignore[attr-defined]
        "start_day": "2026-12-01", "start_time": "16:00", "confirm": "y",
        "reason": "Daughter can only let the team in after 4pm", "approver_name": "Dr Patel",
        "approver_role": "GP"})
    assert response.status_code == 303
    html = client.get(location).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "Booked outside the timeframe" in html and "16:00 on Tuesday 1 December 2026" in html
    session.expire_all()
    events = bookings.bookings_outside_timeframe(
        session, since=datetime.fromisoformat("2026-12-01T00:00:00+00:00"),
        until=datetime.fromisoformat("2026-12-02T00:00:00+00:00"))
    assert [e.details["approved_by"]["name"] for e in events] == ["Dr Patel"]


@pytest.mark.parametrize("typed", ["1/12/2026", "01/12/2026", "1-12-2026", "2026-12-01"])
def test_booking_date_typed_the_uk_way(app: Flask, session: so.Session, typed: str) -> None:
    """The date box reads a UK date (day first), as well as the date picker's ISO value."""
    client, location = _urgent_referral(app, session)
    html = client.post(f"{location}/booking", data={  # type: ignore[attr-defined]
        "start_day": typed, "start_time": "16:00"}).get_data(as_text=True)
    assert "This start is after the deadline" in html and "Enter a real date" not in html


@pytest.mark.parametrize("typed", ["12/31/2026", "31/11/2026", "tomorrow", "1/12/26"])
def test_booking_date_not_a_uk_date(app: Flask, session: so.Session, typed: str) -> None:
    """A month-first or impossible date is refused with a UK example."""
    client, location = _urgent_referral(app, session)
    html = client.post(f"{location}/booking", data={  # type: ignore[attr-defined]
        "start_day": typed, "start_time": "16:00"}).get_data(as_text=True)
    assert "Enter a real date, like 1/12/2026" in html

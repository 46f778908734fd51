"""The deadline watch names a cause, escalates once to the on-call coordinator, and clears."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.services.watch import jeopardy_cause, watch_deadlines
from tests.dispatch import factories as f
from tests.dispatch.factories import NOW

URL = "https://dispatch.example"


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    net = f.network(session, on_call_phone="+447700900999")
    patient = f.patient(session, network_id=net.id)
    ref = f.referral(session, patient.id, network_id=net.id)
    staff = f.staff(session, network_id=net.id)
    # The network is run by a coordinator (else the watch escalates that too, H-111).
    session.add(m.User(username="cora", display_name="Cora", role="coordinator",
                       all_networks=True, created_at=NOW))
    session.flush()
    return {"network": net, "patient": patient, "referral": ref, "staff": staff}


def _visit(session: so.Session, world: dict[str, Any], **kw: Any) -> m.Visit:
    defaults: dict[str, Any] = {
        "network_id": world["network"].id,
        "created_at": NOW,
        "earliest_start": NOW,
        "deadline": NOW + timedelta(hours=2),
    }
    return f.visit(session, world["referral"].id, world["patient"].id, **{**defaults, **kw})


def test_fresh_unassigned_visit_not_in_jeopardy(session: so.Session, world: dict[str, Any]) -> None:
    """The planner gets a grace period before an unassigned visit is escalated."""
    visit = _visit(session, world)
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=5)) is None
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=10)) == "unassigned"


def test_unassigned_close_to_deadline_in_jeopardy(
    session: so.Session, world: dict[str, Any]
) -> None:
    """A new visit already close to its deadline is escalated at once."""
    visit = _visit(session, world, deadline=NOW + timedelta(minutes=30))
    assert jeopardy_cause(visit, now=NOW) == "unassigned"


def _offered(session: so.Session, world: dict[str, Any], **kw: Any) -> m.Visit:
    """A visit offered by SMS at NOW to the world's worker, planned 40 minutes later."""
    return _visit(session, world, status="offered", assigned_staff_id=world["staff"].id,
                  offered_at=NOW, planned_start=NOW + timedelta(minutes=40), **kw)


def test_offer_not_accepted(session: so.Session, world: dict[str, Any]) -> None:
    """An SMS offer of a 24-hour visit unanswered for 15 minutes is a jeopardy."""
    visit = _offered(session, world, category="response_24h", priority=3,
                     deadline=NOW + timedelta(hours=24))
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=14)) is None
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=15)) == "not_accepted"


@pytest.mark.safety("H-246")
def test_urgent_offer_not_accepted_is_chased_after_ten_minutes(
    session: so.Session, world: dict[str, Any]
) -> None:
    """A 2-hour visit's offer unanswered for 10 minutes is a jeopardy (not 15: the next worker
    needs the time), and the watch escalates it then."""
    visit = _offered(session, world)  # a 2-hour visit by default
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=9)) is None
    assert jeopardy_cause(visit, now=NOW + timedelta(minutes=10)) == "not_accepted"
    report = watch_deadlines(session, now=NOW + timedelta(minutes=10), public_url=URL)
    assert report.entered == {"not_accepted": 1} and visit.jeopardy_cause == "not_accepted"


def test_planned_after_deadline_is_late(session: so.Session, world: dict[str, Any]) -> None:
    """A plan that arrives after the deadline is flagged before it happens."""
    visit = _visit(
        session,
        world,
        status="accepted",
        pinned=True,
        assigned_staff_id=world["staff"].id,
        planned_start=NOW + timedelta(hours=2, minutes=5),
    )
    assert jeopardy_cause(visit, now=NOW) == "late_arrival"


def test_watch_escalates_once_and_clears(session: so.Session, world: dict[str, Any]) -> None:
    """Entering jeopardy queues one SMS to on-call and an audit event; a repeat run adds none;
    once assigned and on time, the cause is cleared."""
    visit = _visit(session, world, deadline=NOW + timedelta(minutes=30))
    first = watch_deadlines(session, now=NOW, public_url=URL)
    second = watch_deadlines(session, now=NOW + timedelta(minutes=1), public_url=URL)
    assert first.entered == {"unassigned": 1} and second.entered == {}
    assert visit.jeopardy_cause == "unassigned"
    [message] = session.scalars(sa.select(m.Message)).all()
    assert message.to_number == "+447700900999" and message.status == "pending"
    assert visit.reference in message.body and "no worker assigned" in message.body
    assert "Bloggs" not in message.body and "Wood Lane" not in message.body
    assert "W12" not in message.body  # references only: not even the postcode district
    assert [e.action for e in session.scalars(sa.select(m.AuditEvent))] == ["visit_jeopardy"]
    visit.status, visit.assigned_staff_id = "assigned", world["staff"].id
    visit.planned_start = NOW + timedelta(minutes=20)
    third = watch_deadlines(session, now=NOW + timedelta(minutes=2), public_url=URL)
    assert third.cleared == 1 and visit.jeopardy_cause is None

"""Alarms a coordinator can still read (issue 13, hazard 7; issue 20, item 7).

The deadline watch looks only 24 hours ahead; escalations are rows with a unique key (raised
once however often the same event is reported) and reach the on-call phone grouped, at most one
text per 10 minutes, later ones queued for the next text; the board lists them all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.jobs import runner
from dispatch.services import outbox, tariffs
from dispatch.services import packages as packages_service
from dispatch.services.users import add_user
from dispatch.services.watch import watch_deadlines
from dispatch.sms.compose import ig_problems
from dispatch.sms.escalation import escalate_failure, escalate_visit, send_grouped
from tests.dispatch import factories as f

NOW = datetime(2026, 12, 1, 10, 20, tzinfo=UTC)  # the app's FIXED_NOW (London = UTC)
ON_CALL = "+447700900999"
URL = "https://dispatch.example"


def _texts_to_on_call(session: so.Session) -> list[m.Message]:
    return list(session.scalars(sa.select(m.Message).where(m.Message.to_number == ON_CALL)
                                .order_by(m.Message.id)))


@pytest.fixture(autouse=True)
def _hub_coordinator(session: so.Session) -> None:
    """Every network is run by a coordinator (else the watch escalates that too, H-111)."""
    session.add(m.User(username="hub-cora", display_name="Cora", role="coordinator",
                       all_networks=True, created_at=NOW))
    session.flush()


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    net = f.network(session, on_call_phone=ON_CALL)
    patient = f.patient(session, network_id=net.id, lat=51.512, lon=-0.225)
    referral = f.referral(session, patient.id, network_id=net.id, status="scheduled")
    return {"network": net, "patient": patient, "referral": referral}


def _visit(session: so.Session, world: dict[str, Any], reference: str, *,
           due_in: timedelta, created: datetime = NOW, **kw: Any) -> m.Visit:
    return f.visit(session, world["referral"].id, world["patient"].id,
                   network_id=world["network"].id, reference=reference, created_at=created,
                   earliest_start=NOW, deadline=NOW + due_in, **kw)


@pytest.mark.safety("H-007")
def test_six_week_package_does_not_flood_the_on_call_phone(
    session: so.Session, world: dict[str, Any]
) -> None:
    """The reported flood: a six-week reablement package (twice a day) approved and started,
    nobody placed yet, the watch runs 11 minutes later. Before the fix every one of its ~80
    visits (due until January) was escalated with its own text. Now only the visit due within
    24 hours is escalated, and the on-call phone gets one text naming it."""
    tariffs.ensure_default_tariff(session, date(2026, 12, 1))
    manager = add_user(session, username=f"manager-{uuid.uuid4().hex[:6]}", role="manager",
                       now=NOW).user
    actor = Actor(manager.id, manager.username, "manager")
    package = packages_service.create_package(
        session, patient_id=world["patient"].id, start_date=date(2026, 12, 2), end_date=None,
        lines=[packages_service.LineRequest("reablement_visit", 14, 6)], actor=actor, now=NOW)
    packages_service.submit_package(session, package_id=package.id, actor=actor, now=NOW)
    packages_service.approve_package(session, package_id=package.id, actor=actor, now=NOW)
    visits = packages_service.activate_package(session, package_id=package.id, actor=actor,
                                               now=NOW)
    later = NOW + timedelta(minutes=11)

    report = watch_deadlines(session, now=later, public_url=URL)

    due_soon = [v for v in visits if v.deadline <= later + timedelta(hours=24)]
    assert len(visits) == 84 and max(v.deadline for v in visits).month == 1
    assert len(due_soon) == 1
    assert report.entered == {"unassigned": 1}
    [text] = _texts_to_on_call(session)
    assert due_soon[0].reference in text.body
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Escalation)) == 1


@pytest.mark.safety("H-007")
def test_escalations_are_grouped_one_text_per_ten_minutes_none_lost(
    session: so.Session, world: dict[str, Any]
) -> None:
    """Two visits entering jeopardy together share one text; a third three minutes later waits
    (queued, not dropped) and is the whole of the next text, sent once 10 minutes have passed
    since the first. A visit that leaves jeopardy before its text is not texted."""
    a = _visit(session, world, "1001", due_in=timedelta(minutes=30))
    b = _visit(session, world, "1002", due_in=timedelta(minutes=40))
    watch_deadlines(session, now=NOW, public_url=URL)
    c = _visit(session, world, "1003", due_in=timedelta(minutes=35),
               created=NOW + timedelta(minutes=3))
    d = _visit(session, world, "1004", due_in=timedelta(minutes=36),
               created=NOW + timedelta(minutes=3))

    watch_deadlines(session, now=NOW + timedelta(minutes=3), public_url=URL)
    queued = list(session.scalars(sa.select(m.Escalation).where(
        m.Escalation.message_id.is_(None))))
    d.status, d.pinned = "cancelled", False
    watch_deadlines(session, now=NOW + timedelta(minutes=9), public_url=URL)
    texts_before_ten = len(_texts_to_on_call(session))
    watch_deadlines(session, now=NOW + timedelta(minutes=10), public_url=URL)

    first, second = _texts_to_on_call(session)
    assert "2 escalations" in first.body and a.reference in first.body
    assert b.reference in first.body and c.reference not in first.body
    assert {e.visit_id for e in queued} == {c.id, d.id} and texts_before_ten == 1
    assert c.reference in second.body and "1 escalation" in second.body
    assert d.reference not in second.body  # cancelled before its text: not sent, still listed
    assert first.created_at == NOW and second.created_at == NOW + timedelta(minutes=10)
    assert all(ig_problems(t.body, forbidden=outbox.forbidden_for_visit(session, a)) == []
               for t in (first, second))


@pytest.mark.safety("H-007")
def test_watch_horizon_and_text_interval_are_settings(
    app: Flask, session: so.Session, world: dict[str, Any]
) -> None:
    """DISPATCH_WATCH_HORIZON_HOURS and DISPATCH_ESCALATION_TEXT_MINUTES reach the watch job:
    with a 48-hour horizon a visit due in 30 hours is watched (not with the default 24)."""
    visit = _visit(session, world, "2001", due_in=timedelta(hours=30),
                   created=NOW - timedelta(hours=1))
    session.commit()
    assert app.config["WATCH_HORIZON_HOURS"] == 24 and app.config["ESCALATION_TEXT_MINUTES"] == 10

    runner.watch(app)
    session.expire_all()
    unwatched = visit.jeopardy_cause
    app.config.update(WATCH_HORIZON_HOURS=48, ESCALATION_TEXT_MINUTES=30)
    runner.watch(app)
    session.expire_all()

    assert unwatched is None and visit.jeopardy_cause == "unassigned"
    [text] = _texts_to_on_call(session)
    assert "2001" in text.body
    phone = session.get(m.OnCallText, ON_CALL)
    assert phone is not None and phone.last_sent_at is not None


@pytest.mark.safety("H-016")
def test_one_failure_reported_twice_escalates_once(
    session: so.Session, world: dict[str, Any]
) -> None:
    """The same failed text escalated twice (a repeated delivery report, a sender and a report
    racing) is one escalation, one audit event and one alert: the unique key decides."""
    visit = _visit(session, world, "3001", due_in=timedelta(hours=2))
    staff = f.staff(session, network_id=world["network"].id)
    offer = outbox.enqueue(session, to=staff.phone, body="Visit 3001 offer", now=NOW,
                           visit_id=visit.id, staff_id=staff.id)
    session.flush()

    first = escalate_failure(session, message=offer, cause="SMS not delivered", now=NOW,
                             base_url=URL)
    second = escalate_failure(session, message=offer, cause="SMS not delivered",
                              now=NOW + timedelta(seconds=1), base_url=URL)

    assert first is not None and second is None
    assert len(_texts_to_on_call(session)) == 1
    audits = session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.action == "sms_failed"))
    assert audits == 1


@pytest.mark.safety("H-016")
def test_repeated_failed_delivery_reports_alert_once(
    session: so.Session, world: dict[str, Any]
) -> None:
    """Ten "failed" reports for one text (the SQLite path: one writer at a time) give one
    escalation and one alert."""
    visit = _visit(session, world, "3002", due_in=timedelta(hours=2))
    staff = f.staff(session, network_id=world["network"].id)
    offer = outbox.enqueue(session, to=staff.phone, body="Visit 3002 offer", now=NOW,
                           visit_id=visit.id, staff_id=staff.id)
    offer.status, offer.provider_sid = "sent", "SMfailed1"
    session.flush()

    for i in range(10):
        outbox.record_status(session, sid="SMfailed1", status="failed", error_code="30003",
                             now=NOW + timedelta(seconds=i), base_url=URL)

    assert len(_texts_to_on_call(session)) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Escalation)) == 1


def test_escalate_visit_is_the_entry_point_for_other_services(
    session: so.Session, world: dict[str, Any]
) -> None:
    """``escalate_visit`` (what the planner calls when nobody can reach an urgent visit)
    raises one escalation per key, audits it as ``visit_jeopardy`` and texts at once when the
    phone has had no text in the interval."""
    visit = _visit(session, world, "4001", due_in=timedelta(hours=2))

    first = escalate_visit(session, visit=visit, cause="no_one_can_reach", now=NOW,
                           key="planner:4001", base_url=URL)
    again = escalate_visit(session, visit=visit, cause="no_one_can_reach", now=NOW,
                           key="planner:4001", base_url=URL)

    assert first is not None and again is None
    assert first.cause == "no one can reach" and first.message_id is not None
    [text] = _texts_to_on_call(session)
    assert "visit 4001 no one can reach" in text.body
    event = session.scalar(sa.select(m.AuditEvent).where(m.AuditEvent.action == "visit_jeopardy"))
    assert event is not None and event.details["cause"] == "no_one_can_reach"


@pytest.mark.safety("H-050")
def test_network_without_on_call_phone_is_board_only(session: so.Session) -> None:
    """No on-call phone: the escalation is recorded (for the board), no text is attempted."""
    net = f.network(session, code="NOPHONE", on_call_phone=None)
    patient = f.patient(session, network_id=net.id)
    referral = f.referral(session, patient.id, network_id=net.id)
    visit = f.visit(session, referral.id, patient.id, network_id=net.id, reference="5001",
                    earliest_start=NOW, deadline=NOW + timedelta(minutes=30), created_at=NOW)

    watch_deadlines(session, now=NOW, public_url=URL)

    [row] = session.scalars(sa.select(m.Escalation)).all()
    assert (row.visit_id, row.to_number, row.message_id) == (visit.id, None, None)
    assert send_grouped(session, now=NOW + timedelta(hours=1), base_url=URL) == []


@pytest.mark.safety("H-007")
def test_board_lists_every_escalation_texted_or_queued(
    app: Flask, session: so.Session, world: dict[str, Any]
) -> None:
    """The attention list shows all escalations, not only the texted ones: two texted together,
    one queued for the next grouped text, and one visit due tomorrow (outside today's board
    window) still listed because it was escalated."""
    from tests.dispatch.web.test_web_day import office_client

    _visit(session, world, "6001", due_in=timedelta(minutes=30))
    _visit(session, world, "6002", due_in=timedelta(minutes=40))
    watch_deadlines(session, now=NOW, public_url=URL)
    _visit(session, world, "6003", due_in=timedelta(minutes=50),
           created=NOW - timedelta(minutes=10))
    tomorrow = _visit(session, world, "6004", due_in=timedelta(hours=23))
    tomorrow.earliest_start = NOW + timedelta(hours=21)
    watch_deadlines(session, now=NOW + timedelta(minutes=2), public_url=URL)
    escalate_visit(session, visit=tomorrow, cause="no_one_can_reach", now=NOW, base_url=URL)
    session.commit()
    client, _ = office_client(app, session, "coordinator", network_id=world["network"].id)

    html = client.get("/board").get_data(as_text=True)
    data = client.get("/board/data").json

    table = html[html.index('id="escalations"'):]
    table = table[:table.index("</table>")]
    assert table.count("data-escalation=") == 4
    assert table.count("Texted 10:20") == 2 and table.count("Queued for the next grouped") == 2
    for reference in ("6001", "6002", "6003", "6004"):
        assert f"Visit {reference}" in table
    assert "no one can reach" in table and "Joe" not in html
    assert data is not None and len(data["escalations"]) == 4
    assert sum(e["queued"] for e in data["escalations"]) == 2
    assert len(_texts_to_on_call(session)) == 1


@pytest.mark.safety("H-051")
def test_a_visit_changed_under_the_watch_does_not_stop_the_run(
    session: so.Session, world: dict[str, Any]
) -> None:
    """Another writer (the planner, a coordinator, a second watch) moves one visit's version
    while the watch holds an old copy: that visit is left to the other writer and the rest are
    still escalated. Before, the StaleDataError rolled back the whole run, so no visit was
    escalated that minute."""
    first = _visit(session, world, "7001", due_in=timedelta(minutes=30))
    second = _visit(session, world, "7002", due_in=timedelta(minutes=35))
    session.execute(sa.update(m.Visit).where(m.Visit.id == first.id)
                    .values(version=m.Visit.version + 1)
                    .execution_options(synchronize_session=False))

    report = watch_deadlines(session, now=NOW, public_url=URL)

    assert report.skipped == 1 and report.entered == {"unassigned": 1}
    [escalation] = session.scalars(sa.select(m.Escalation)).all()
    assert escalation.visit_id == second.id
    [text] = _texts_to_on_call(session)
    assert "7002" in text.body


@pytest.mark.safety("H-050")
def test_failed_on_call_text_is_put_on_the_board_not_retexted(
    session: so.Session, world: dict[str, Any]
) -> None:
    """The grouped text to the on-call phone itself fails: no second text (no loop), but an
    escalation on the board says the escalations it listed never arrived."""
    _visit(session, world, "8001", due_in=timedelta(minutes=30))
    watch_deadlines(session, now=NOW, public_url=URL)
    [text] = _texts_to_on_call(session)
    text.status, text.provider_sid = "sent", "SMoncall"
    session.flush()

    outbox.record_status(session, sid="SMoncall", status="undelivered", error_code="30003",
                         now=NOW + timedelta(minutes=1), base_url=URL)
    outbox.record_status(session, sid="SMoncall", status="failed", error_code="30003",
                         now=NOW + timedelta(minutes=2), base_url=URL)

    assert len(_texts_to_on_call(session)) == 1
    failed = session.scalars(sa.select(m.Escalation).where(
        m.Escalation.kind == "on_call_failed")).all()
    assert len(failed) == 1 and failed[0].to_number is None
    assert failed[0].network_id == world["network"].id
    assert "not delivered" in failed[0].cause


@pytest.mark.safety("H-240")
def test_a_patient_named_like_the_network_does_not_stop_the_escalation_text(
        session: so.Session) -> None:
    """Mrs White in "White City & Shepherd's Bush": the network's name is not her data, so the
    grouped text still goes out (it used to fail the IG check and crash the deadline watch,
    so no escalation went out at all); her own name is still never in it."""
    net = f.network(session, code="HF-NORTH", name="White City & Shepherd's Bush",
                    on_call_phone=ON_CALL)
    patient = f.patient(session, network_id=net.id, given_name="Dora", family_name="White")
    referral = f.referral(session, patient.id, network_id=net.id, status="scheduled")
    f.visit(session, referral.id, patient.id, network_id=net.id, reference="6001",
            earliest_start=NOW, deadline=NOW + timedelta(minutes=30), created_at=NOW)

    watch_deadlines(session, now=NOW, public_url=URL)

    [text] = _texts_to_on_call(session)
    assert "DISPATCH ALERT White City & Shepherd's Bush" in text.body
    assert "visit 6001" in text.body and "Dora" not in text.body

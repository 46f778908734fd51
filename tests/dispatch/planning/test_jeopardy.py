"""Hazard H-006: a 2-hour visit is never quietly planned after its deadline.

The night this was found: after one decline, a 2-hour visit due at 00:43 was re-offered for
07:06 the next morning (under ``serve_late`` the planner took the next rostered shift).
Now the planner looks for cover in the other networks on capacity, and when nobody anywhere
can make it, the on-call coordinator is asked at once and their decision is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import Actor
from dispatch.errors import Conflict, InvalidInput
from dispatch.planning import jeopardy, live
from dispatch.services import visit_actions
from dispatch.services.watch import jeopardy_cause, watch_deadlines
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f

NIGHT = datetime(2026, 12, 1, 22, 43, tzinfo=UTC)  # London is on UTC in December
COORDINATOR = Actor(user_id=None, username="oncall", role="coordinator")
ON_CALL = "+447700900999"


def _shift(session: so.Session, staff: m.Staff, base: m.StaffBase, code: str,
           start: datetime, end: datetime) -> m.Shift:
    row = m.Shift(code=code, staff_id=staff.id, base_id=base.id, starts_at=start, ends_at=end)
    session.add(row)
    session.flush()
    return row


def _night(session: so.Session, *, neighbour_free: bool = False) -> dict[str, Any]:
    """One night nurse who can reach the patient by 00:43, a day nurse from 07:00 tomorrow,
    and a neighbouring network whose nurse is on until 02:00 (busy unless ``neighbour_free``)."""
    home = f.network(session, on_call_phone=ON_CALL)
    near = f.network(session, code="HF-S1", name="H&F South", on_call_phone="+447700900998")
    base = f.base(session, network_id=home.id)
    near_base = f.base(session, code="B2", name="Fulham hub", lat=51.48, lon=-0.20,
                       network_id=near.id)
    night = f.staff(session, code="night", network_id=home.id, base_id=base.id,
                    skills=["falls_assessment"])
    day = f.staff(session, code="day", name="Day Nurse", phone="+447700900002",
                  network_id=home.id, base_id=base.id, skills=["falls_assessment"])
    other = f.staff(session, code="other", name="Fulham Nurse", phone="+447700900003",
                    network_id=near.id, base_id=near_base.id, skills=["falls_assessment"])
    _shift(session, night, base, "N1", NIGHT - timedelta(hours=3), NIGHT + timedelta(hours=4))
    _shift(session, day, base, "D1", datetime(2026, 12, 2, 7, 0, tzinfo=UTC),
           datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    other_shift = _shift(session, other, near_base, "N2", NIGHT - timedelta(hours=3),
                         NIGHT + timedelta(hours=4))
    patient = f.patient(session, network_id=home.id, lat=51.512, lon=-0.225)
    referral = f.referral(session, patient.id, network_id=home.id, received_at=NIGHT,
                          deadline=NIGHT + timedelta(hours=2), status="scheduled")
    visit = f.visit(session, referral.id, patient.id, network_id=home.id, earliest_start=NIGHT,
                    deadline=NIGHT + timedelta(hours=2), created_at=NIGHT)
    if not neighbour_free:
        # The neighbour's nurse is on a long visit until 01:08, after the deadline.
        busy = f.patient(session, nhs_number="9434765870", family_name="Busy", lat=51.48,
                         lon=-0.201, network_id=near.id)
        theirs = f.referral(session, busy.id, network_id=near.id, status="in_progress")
        f.visit(session, theirs.id, busy.id, reference="5000", network_id=near.id,
                category="response_24h", priority=3, skills=[], duration_minutes=150,
                earliest_start=NIGHT - timedelta(hours=1), deadline=NIGHT + timedelta(hours=1),
                status="on_site", pinned=True, assigned_staff_id=other.id,
                shift_id=other_shift.id, planned_start=NIGHT - timedelta(minutes=5),
                arrived_at=NIGHT - timedelta(minutes=5))
    session.commit()
    return {"home": home, "near": near, "night": night, "day": day, "other": other,
            "visit": visit, "referral": referral}


def _decline_and_replace(session: so.Session, world: dict[str, Any]) -> m.Visit:
    provider = GeodesicTravelTime()
    live.place_new_visits(session, now=NIGHT, provider=provider, seconds=0.3)
    visit = world["visit"]
    assert (visit.status, visit.assigned_staff_id) == ("offered", world["night"].id)
    visit_actions.decline(session, visit=visit, staff=world["night"], reason="stuck",
                          now=NIGHT + timedelta(minutes=2))
    session.commit()
    live.place_new_visits(session, now=NIGHT + timedelta(minutes=2), provider=provider,
                          seconds=0.3)
    session.commit()
    return visit


@pytest.mark.safety("H-006")
def test_declined_urgent_visit_is_not_moved_to_the_next_morning(session: so.Session) -> None:
    """The 00:43 visit whose only reachable worker declined is not offered for 07:06: it is
    in jeopardy at once, and the on-call coordinator is texted only the reference."""
    world = _night(session)

    visit = _decline_and_replace(session, world)

    assert visit.planned_start is None or visit.planned_start <= visit.deadline
    assert (visit.status, visit.assigned_staff_id) == ("unassigned", None)
    assert visit.jeopardy_cause == "needs_decision"
    assert visit.jeopardy_since == NIGHT + timedelta(minutes=2)
    texts = session.scalars(sa.select(m.Message).where(m.Message.to_number == ON_CALL)).all()
    assert len(texts) == 1
    assert f"visit {visit.reference} " in texts[0].body
    assert "needs a decision" in texts[0].body
    assert "Bloggs" not in texts[0].body and "W12" not in texts[0].body
    assert session.scalar(sa.select(sa.func.count()).select_from(m.AuditEvent).where(
        m.AuditEvent.action == "visit_jeopardy")) == 1


@pytest.mark.safety("H-006")
def test_watch_leaves_a_visit_awaiting_a_decision_alone(session: so.Session) -> None:
    """The deadline watch neither clears nor re-escalates a visit the planner escalated: the
    on-call phone gets only the one reminder that a decision is still needed (H-040-C2)."""
    world = _night(session)
    visit = _decline_and_replace(session, world)

    for minutes in (3, 15, 60):
        watch_deadlines(session, now=NIGHT + timedelta(minutes=minutes), public_url="https://x")
    session.commit()

    assert visit.jeopardy_cause == "needs_decision"
    texts = session.scalars(sa.select(m.Message.body).where(
        m.Message.to_number == ON_CALL).order_by(m.Message.id)).all()
    assert len(texts) == 2
    assert "reminder: still needs your decision" in texts[1]


@pytest.mark.safety("H-006")
def test_neighbouring_network_with_capacity_covers_the_declined_visit(
    session: so.Session,
) -> None:
    """When a nurse in the next network is free and can arrive before the deadline, the
    visit goes to them (an insertion into that team's plan), not into jeopardy."""
    world = _night(session, neighbour_free=True)

    visit = _decline_and_replace(session, world)

    assert (visit.status, visit.assigned_staff_id) == ("offered", world["other"].id)
    assert visit.network_id == world["near"].id
    assert visit.planned_start is not None and visit.planned_start <= visit.deadline
    assert visit.jeopardy_cause is None
    assert visit.reason is not None and visit.reason.startswith("Cross-cover: no one in HF-N1")


@pytest.mark.safety("H-006")
def test_busy_neighbour_is_not_chosen_on_skills_alone(session: so.Session) -> None:
    """The neighbour has the skill and is on shift but fully booked: no cover is made."""
    world = _night(session)

    visit = _decline_and_replace(session, world)

    assert visit.network_id == world["home"].id
    assert visit.assigned_staff_id is None


@pytest.mark.safety("H-006")
def test_options_name_each_worker_with_their_earliest_start(session: so.Session) -> None:
    """The coordinator sees late-by-N options per worker (computed), cover and hand back."""
    world = _night(session)
    visit = _decline_and_replace(session, world)

    choices = jeopardy.options(session, visit, now=NIGHT + timedelta(minutes=2),
                               provider=GeodesicTravelTime())

    by_staff = {o.staff_id: o for o in choices.late}
    assert world["night"].id not in by_staff  # they declined
    day = by_staff[world["day"].id]
    assert day.start >= datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert day.late_minutes == int((day.start - visit.deadline).total_seconds() // 60) or \
        day.late_minutes == int((day.start - visit.deadline).total_seconds() // 60) + 1
    other = by_staff[world["other"].id]  # free once their accepted visit ends
    assert other.start > visit.deadline and other.start < day.start
    assert [o.staff_id for o in choices.late][0] == world["other"].id
    assert [c.network_id for c in choices.cover] == [world["near"].id]
    assert choices.hand_back


@pytest.mark.safety("H-006")
def test_allow_late_lets_the_planner_serve_it_late_with_that_worker_only(
    session: so.Session,
) -> None:
    """After the coordinator allows 7 hours late with the day nurse, the planner offers it
    to the day nurse, within that limit; the decision is audited."""
    world = _night(session)
    visit = _decline_and_replace(session, world)
    later = NIGHT + timedelta(minutes=5)

    jeopardy.decide(session, visit_id=visit.id, choice="allow_late", actor=COORDINATOR,
                    now=later, staff_id=world["day"].id, late_minutes=7 * 60)
    session.commit()
    live.place_new_visits(session, now=later, provider=GeodesicTravelTime(), seconds=0.3)
    session.commit()

    assert (visit.status, visit.assigned_staff_id) == ("offered", world["day"].id)
    assert visit.planned_start is not None
    assert visit.deadline < visit.planned_start <= visit.deadline + timedelta(hours=7)
    assert visit.jeopardy_cause is None
    event = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "jeopardy_decision")).one()
    assert event.username == "oncall"
    assert event.details["choice"] == "allow_late"
    assert event.details["staff_id"] == world["day"].id


@pytest.mark.safety("H-006")
def test_the_watch_does_not_re_escalate_lateness_a_coordinator_allowed(
    session: so.Session,
) -> None:
    """Allowed late with the day nurse: the watch neither re-raises "late arrival" (nor texts
    on-call about it) while the visit keeps within the allowed limit; once that limit passes
    with nobody on site it escalates again (the decision no longer covers it)."""
    world = _night(session)
    visit = _decline_and_replace(session, world)
    later = NIGHT + timedelta(minutes=5)
    jeopardy.decide(session, visit_id=visit.id, choice="allow_late", actor=COORDINATOR,
                    now=later, staff_id=world["day"].id, late_minutes=7 * 60)
    session.commit()
    live.place_new_visits(session, now=later, provider=GeodesicTravelTime(), seconds=0.3)
    session.commit()
    assert visit.planned_start is not None and visit.planned_start > visit.deadline
    visit_actions.accept(session, visit=visit, staff=session.get(m.Staff, world["day"].id),
                         now=later + timedelta(minutes=2))
    session.commit()

    for minutes in (6, 60, 4 * 60):
        report = watch_deadlines(session, now=later + timedelta(minutes=minutes),
                                 public_url="https://dispatch.example")
        session.commit()
        assert report.entered == {}, f"re-escalated {minutes} min after the decision"
        assert visit.jeopardy_cause is None
    assert visit.late_allowed_until is not None
    past_limit = visit.late_allowed_until + timedelta(minutes=1)
    assert jeopardy_cause(visit, now=past_limit) == "late_arrival"


@pytest.mark.safety("H-006")
def test_allow_late_beyond_the_workers_earliest_start_is_not_planned(
    session: so.Session,
) -> None:
    """A limit the worker cannot meet (30 minutes late, day nurse starts at 07:00) is not
    stretched by the planner: the visit is escalated again for a new decision."""
    world = _night(session)
    visit = _decline_and_replace(session, world)
    later = NIGHT + timedelta(minutes=5)
    jeopardy.decide(session, visit_id=visit.id, choice="allow_late", actor=COORDINATOR,
                    now=later, staff_id=world["day"].id, late_minutes=30)
    session.commit()

    live.place_new_visits(session, now=later, provider=GeodesicTravelTime(), seconds=0.3)
    session.commit()

    assert visit.status == "unassigned"
    assert visit.jeopardy_cause == "needs_decision"


@pytest.mark.safety("H-006")
def test_hand_back_cancels_the_visit_through_the_state_machine(session: so.Session) -> None:
    """Hand back: the visit is cancelled with the reason, the referral escalated, audited."""
    world = _night(session)
    visit = _decline_and_replace(session, world)

    jeopardy.decide(session, visit_id=visit.id, choice="hand_back", actor=COORDINATOR,
                    now=NIGHT + timedelta(minutes=5), note="111 clinician will call back")
    session.commit()

    assert visit.status == "cancelled" and visit.jeopardy_cause is None
    assert world["referral"].status == "escalated"
    cancel = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "cancel_visit")).one()
    assert cancel.details["reason"].startswith("handed back to 111/999")


def test_cover_moves_the_visit_to_the_chosen_network(session: so.Session) -> None:
    """Cover: the visit is on the other network's board, out of jeopardy, for its planner."""
    world = _night(session)
    visit = _decline_and_replace(session, world)

    jeopardy.decide(session, visit_id=visit.id, choice="cover", actor=COORDINATOR,
                    now=NIGHT + timedelta(minutes=5), network_id=world["near"].id)
    session.commit()

    assert visit.network_id == world["near"].id and visit.jeopardy_cause is None
    assert visit.reason is not None and "HF-S1" in visit.reason


@pytest.mark.safety("H-064")
@pytest.mark.parametrize("how", ["on_call_cover", "automatic_cross_cover"])
def test_cross_cover_keeps_why_the_visit_is_needed(session: so.Session, how: str) -> None:
    """Moving a visit to another network's team adds the cross-cover note to the visit's
    reason; the covering nurse still reads why the visit is needed (the triage needs), which
    the note used to overwrite."""
    world = _night(session, neighbour_free=how == "automatic_cross_cover")
    world["referral"].needs = ["fall_no_injury"]
    session.flush()
    visit = _decline_and_replace(session, world)
    if how == "on_call_cover":
        jeopardy.decide(session, visit_id=visit.id, choice="cover", actor=COORDINATOR,
                        now=NIGHT + timedelta(minutes=5), network_id=world["near"].id)
        session.commit()

    assert visit.network_id == world["near"].id
    assert visit.reason is not None and visit.reason.startswith("Cross-cover:")
    assert "Fall without serious injury" in visit.reason


def test_decision_with_an_unsuitable_worker_is_refused(session: so.Session) -> None:
    """allow_late with the worker who declined names the field and changes nothing."""
    world = _night(session)
    visit = _decline_and_replace(session, world)

    with pytest.raises(InvalidInput) as caught:
        jeopardy.decide(session, visit_id=visit.id, choice="allow_late", actor=COORDINATOR,
                        now=NIGHT + timedelta(minutes=5), staff_id=world["night"].id,
                        late_minutes=30)

    assert "staff_id" in caught.value.errors
    assert visit.late_allowed_until is None and visit.jeopardy_cause == "needs_decision"


# ------------------------------------------------------------------ through the API and board


def _at(app: Flask, moment: datetime) -> None:
    app.config["FIXED_NOW"] = moment.isoformat()


@pytest.mark.safety("H-006")
def test_api_jeopardy_decision_records_allow_late_for_a_coordinator(
    app: Flask, session: so.Session, token_for: Callable[..., dict[str, str]],
) -> None:
    """POST /api/visits/{id}/jeopardy-decision (coordinator): the allowance is on the visit,
    audited with the coordinator's name; options come first from jeopardy-options."""
    world = _night(session)
    visit = _decline_and_replace(session, world)
    _at(app, NIGHT + timedelta(minutes=5))
    client = app.test_client()
    headers = token_for("coordinator", username="oncall-api")

    listed = client.get(f"/api/visits/{visit.id}/jeopardy-options", headers=headers)
    assert listed.status_code == 200
    body = listed.get_json()
    assert {o["staff_id"] for o in body["late"]} == {world["day"].id, world["other"].id}
    assert body["hand_back"] is True and body["cover"][0]["network_id"] == world["near"].id
    day = next(o for o in body["late"] if o["staff_id"] == world["day"].id)

    response = client.post(f"/api/visits/{visit.id}/jeopardy-decision", headers=headers, json={
        "choice": "allow_late", "staff_id": world["day"].id,
        "late_minutes": day["late_minutes"] + 10})

    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["late_allowed_staff_id"] == world["day"].id
    assert data["jeopardy_cause"] is None
    session.expire_all()
    event = session.scalars(sa.select(m.AuditEvent).where(
        m.AuditEvent.action == "jeopardy_decision")).one()
    assert event.username == "oncall-api" and event.role == "coordinator"


def test_api_jeopardy_decision_is_refused_to_call_handlers_and_checks_fields(
    app: Flask, session: so.Session, token_for: Callable[..., dict[str, str]],
) -> None:
    """A call handler gets 403; a coordinator's allow_late without a worker gets 422 naming
    staff_id; an unknown choice 422 naming choice."""
    world = _night(session)
    visit = _decline_and_replace(session, world)
    _at(app, NIGHT + timedelta(minutes=5))
    client = app.test_client()
    url = f"/api/visits/{visit.id}/jeopardy-decision"

    handler = client.post(url, headers=token_for("call_handler"), json={"choice": "hand_back"})
    coordinator = token_for("coordinator")
    missing = client.post(url, headers=coordinator, json={"choice": "allow_late",
                                                          "late_minutes": 30})
    unknown = client.post(url, headers=coordinator, json={"choice": "wait"})

    assert handler.status_code == 403
    assert missing.status_code == 422 and "staff_id" in missing.get_json()["errors"]
    assert unknown.status_code == 422 and "choice" in unknown.get_json()["errors"]["json"]


def test_openapi_documents_the_jeopardy_endpoints(client: FlaskClient) -> None:
    """The new endpoints are in /api/openapi.json with their request body."""
    spec = client.get("/api/openapi.json").get_json()
    assert "post" in spec["paths"]["/api/visits/{visit_id}/jeopardy-decision"]
    assert "get" in spec["paths"]["/api/visits/{visit_id}/jeopardy-options"]
    assert "JeopardyDecision" in spec["components"]["schemas"]


@pytest.mark.safety("H-006")
def test_board_visit_page_shows_the_choices_and_records_hand_back(
    app: Flask, session: so.Session,
) -> None:
    """The board's visit page lists late-by-N options per worker, cover and hand back; the
    hand-back button cancels the visit."""
    from tests.dispatch.web.test_web_day import office_client

    world = _night(session)
    visit = _decline_and_replace(session, world)
    _at(app, NIGHT + timedelta(minutes=5))
    client, _ = office_client(app, session, "coordinator", network_id=world["home"].id)

    page = client.get(f"/board/visits/{visit.id}").get_data(as_text=True)
    assert 'id="needs-decision"' in page
    assert "with Day Nurse (start 07:" in page and "with Fulham Nurse" in page
    assert "Ask HF-S1 (H&amp;F South) to cover" in page
    assert "Hand back to 111/999" in page

    done = client.post(f"/board/visits/{visit.id}/jeopardy-decision",
                       data={"choice": "hand_back", "note": "111 will call back"})

    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    session.expire_all()
    assert session.get(m.Visit, visit.id).status == "cancelled"  # type: ignore[union-attr]


@pytest.mark.safety("H-040")
def test_board_lists_a_visit_awaiting_a_decision_first(app: Flask, session: so.Session) -> None:
    """A visit waiting for the coordinator's decision heads the board's attention list with
    its cause, so it is seen even if the text is not read."""
    from tests.dispatch.web.test_web_day import office_client

    world = _night(session)
    visit = _decline_and_replace(session, world)
    _at(app, NIGHT + timedelta(minutes=5))
    client, _ = office_client(app, session, "coordinator", network_id=world["home"].id)

    html = client.get("/board").get_data(as_text=True)

    attention = html[html.index('id="attention"'):html.index('id="map-heading"')]
    assert f'data-visit="{visit.reference}"' in attention
    assert "needs a decision" in attention


def test_visit_whose_window_opens_tomorrow_is_not_escalated_tonight(session: so.Session) -> None:
    """An out-of-hours 2-hour visit booked for 08:00-10:00 tomorrow, with tomorrow's roster
    not loaded yet, is left to the planner (no 'needs a decision' at 22:45), unlike one due now."""
    world = _night(session)
    visit = world["visit"]
    visit.earliest_start = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    visit.deadline = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    session.execute(sa.delete(m.Shift).where(m.Shift.code == "D1"))
    session.commit()

    live.place_new_visits(session, now=NIGHT, provider=GeodesicTravelTime(), seconds=0.3)
    session.commit()

    assert visit.status == "unassigned" and visit.jeopardy_cause is None
    assert session.scalar(sa.select(sa.func.count()).select_from(m.Message).where(
        m.Message.to_number == ON_CALL)) == 0


def _accepted_then_pushed_late(session: so.Session, *, neighbour_free: bool = False
                               ) -> tuple[dict[str, Any], m.Visit]:
    """The night nurse accepts the 2-hour visit; then their day slips (an overrun, another
    accepted visit) and the plan re-times it 25 minutes after its deadline."""
    world = _night(session, neighbour_free=neighbour_free)
    live.place_new_visits(session, now=NIGHT, provider=GeodesicTravelTime(), seconds=0.3)
    visit = world["visit"]
    visit_actions.accept(session, visit=visit, staff=world["night"],
                         now=NIGHT + timedelta(minutes=1))
    visit_actions.retime_accepted(session, visit=visit, now=NIGHT + timedelta(minutes=30),
                                  planned_start=visit.deadline + timedelta(minutes=25))
    session.commit()
    return world, visit


def _withdrawn_texts(session: so.Session, staff: m.Staff) -> int:
    return len([body for body in session.scalars(sa.select(m.Message.body).where(
        m.Message.to_number == staff.phone)) if "withdrawn from you" in body])


@pytest.mark.safety("H-041")
def test_accepted_urgent_visit_pushed_past_its_deadline_asks_on_call_to_decide(
        session: so.Session) -> None:
    """The watch asks the on-call coordinator to decide (in those words), offers the same
    choices as for a visit nobody can reach, reminds after 10 minutes; allowing the same
    worker to run late keeps the visit with them, untold, and ends the jeopardy."""
    world, visit = _accepted_then_pushed_late(session)
    watch_deadlines(session, now=NIGHT + timedelta(minutes=31), public_url="https://x")
    session.commit()

    assert visit.jeopardy_cause == "late_arrival" and jeopardy.awaiting_decision(visit)
    texts = session.scalars(sa.select(m.Message.body).where(
        m.Message.to_number == ON_CALL).order_by(m.Message.id)).all()
    assert "accepted, planned after the deadline: needs a decision" in texts[-1]
    choices = jeopardy.options(session, visit, now=NIGHT + timedelta(minutes=31),
                               provider=GeodesicTravelTime())
    assert choices.cover  # the neighbouring network is offered
    watch_deadlines(session, now=NIGHT + timedelta(minutes=41), public_url="https://x")
    assert "reminder: still needs your decision" in session.scalars(
        sa.select(m.Message.body).where(m.Message.to_number == ON_CALL)
        .order_by(m.Message.id.desc())).first()

    jeopardy.decide(session, visit_id=visit.id, choice="allow_late",
                    staff_id=world["night"].id, late_minutes=30,
                    actor=COORDINATOR,
                    now=NIGHT + timedelta(minutes=42))
    session.commit()
    assert (visit.status, visit.assigned_staff_id) == ("accepted", world["night"].id)
    assert _withdrawn_texts(session, world["night"]) == 0
    watch_deadlines(session, now=NIGHT + timedelta(minutes=43), public_url="https://x")
    assert visit.jeopardy_cause is None


@pytest.mark.safety("H-041")
def test_accepted_urgent_visit_pushed_late_can_be_moved_to_cover(session: so.Session) -> None:
    """Choosing cover takes the visit off the worker who accepted it (they are told it is no
    longer needed) and puts it on the other network's board; a non-urgent accepted visit is
    not the coordinator's to decide on this way."""
    world, visit = _accepted_then_pushed_late(session)
    watch_deadlines(session, now=NIGHT + timedelta(minutes=31), public_url="https://x")
    near = session.scalar(sa.select(m.Network).where(m.Network.code == "HF-S1"))
    assert near is not None

    jeopardy.decide(session, visit_id=visit.id, choice="cover", network_id=near.id,
                    actor=COORDINATOR,
                    now=NIGHT + timedelta(minutes=32))
    session.commit()
    assert (visit.status, visit.network_id) == ("unassigned", near.id)
    assert _withdrawn_texts(session, world["night"]) == 1

    planned = f.visit(session, world["referral"].id, visit.patient_id, reference="5100",
                      network_id=visit.network_id, category="planned", priority=5,
                      status="accepted", pinned=True, assigned_staff_id=world["night"].id,
                      earliest_start=NIGHT, deadline=NIGHT + timedelta(hours=3),
                      planned_start=NIGHT + timedelta(hours=4), created_at=NIGHT)
    planned.jeopardy_cause = "late_arrival"
    with pytest.raises(Conflict):
        jeopardy.decide(session, visit_id=planned.id, choice="hand_back",
                        actor=COORDINATOR,
                        now=NIGHT + timedelta(minutes=33))

"""Double-handed visits end to end (issue 15): two linked visits, two workers at the same
time, two offers that must both be accepted, a decline re-plans both, never one half alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.actors import SYSTEM
from dispatch.planning import live
from dispatch.planning.pairs import whole_pairs, without_lone_halves
from dispatch.services import pairs, visit_actions
from routing import types as rt
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f
from tests.dispatch.api.test_referrals_api import _body
from tests.dispatch.planning.test_planning import NOW


@pytest.fixture
def carers(session: so.Session) -> dict[str, Any]:
    """One network, three personal-care workers on shift, one patient with a 24-hour visit
    made double-handed (a hoist transfer)."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    workers = []
    for k in range(3):
        member = f.staff(session, code=f"hw{k}", name=f"Carer {k}", role="hybrid_worker",
                         phone=f"+44770090010{k}", network_id=net.id, base_id=base.id,
                         skills=["personal_care"])
        session.add(m.Shift(code=f"sh-{k}", staff_id=member.id, base_id=base.id,
                            starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=8),
                            breaks=[]))
        workers.append(member)
    patient = f.patient(session, lat=51.512, lon=-0.225, network_id=net.id)
    ref = f.referral(session, patient.id, network_id=net.id, category="response_24h",
                     priority=3)
    first = f.visit(session, ref.id, patient.id, reference="2001", network_id=net.id,
                    skills=["personal_care"], category="response_24h", priority=3,
                    earliest_start=NOW, deadline=NOW + timedelta(hours=4))
    second = pairs.make_double_handed(session, visit=first, now=NOW, actor=SYSTEM)
    session.commit()
    return {"network": net, "workers": workers, "first": first, "second": second}


def _place(session: so.Session) -> None:
    live.place_new_visits(session, now=NOW, provider=GeodesicTravelTime(), seconds=0.5)


def test_make_double_handed_links_a_twin_at_the_same_time(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """The second half copies the window, skills and length; the link is 0..0, different."""
    first, second = carers["first"], carers["second"]
    link = pairs.link_of(session, first.id)
    assert link is not None and link.partner_of(first.id) == second.id
    assert (link.kind, link.min_gap_minutes, link.max_gap_minutes, link.workers) == (
        "double_handed", 0, 0, "different")
    assert (second.earliest_start, second.deadline, second.skills, second.duration_minutes) == (
        first.earliest_start, first.deadline, first.skills, first.duration_minutes)
    assert second.reference != first.reference and second.status == "unassigned"


@pytest.mark.safety("H-100")
def test_pair_is_offered_to_two_workers_at_the_same_start(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """The planner offers both halves, to two different workers, starting together; each
    offer text says two staff and names the other worker's code."""
    _place(session)
    first, second = carers["first"], carers["second"]
    assert first.status == second.status == "offered"
    assert first.assigned_staff_id != second.assigned_staff_id
    assert first.planned_start == second.planned_start
    codes = {w.id: w.code for w in carers["workers"]}
    for visit, other in ((first, second), (second, first)):
        body = session.scalar(sa.select(m.Message.body).where(
            m.Message.visit_id == visit.id, m.Message.direction == "outbound"))
        assert body is not None and f"2 staff with {codes[other.assigned_staff_id]}" in body


@pytest.mark.safety("H-100")
def test_one_decline_replans_both_halves_together(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """A decline sends the declined half back; the planner places it with a third worker at
    the partner's time (the pair keeps its gap 0 and two different workers)."""
    _place(session)
    first, second = carers["first"], carers["second"]
    declined_by = session.get(m.Staff, first.assigned_staff_id)
    assert declined_by is not None
    visit_actions.decline(session, visit=first, staff=declined_by, reason="no", now=NOW)
    session.commit()
    _place(session)
    assert first.status == second.status == "offered"
    assert declined_by.id not in (first.assigned_staff_id, second.assigned_staff_id)
    assert first.assigned_staff_id != second.assigned_staff_id
    assert first.planned_start == second.planned_start


@pytest.mark.safety("H-130")
def test_unservable_half_withdraws_its_accepted_partner(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """Only two workers left: after a decline no pair of different workers remains, so both
    halves are unassigned with the reason, the partner's acceptance notwithstanding, and the
    partner's worker is told it is withdrawn (never one carer sent alone to a hoist)."""
    session.get(m.Staff, carers["workers"][2].id).active = False  # type: ignore[union-attr]
    session.commit()
    _place(session)
    first, second = carers["first"], carers["second"]
    partner_worker = session.get(m.Staff, second.assigned_staff_id)
    assert partner_worker is not None
    visit_actions.accept(session, visit=second, staff=partner_worker, now=NOW)
    declined_by = session.get(m.Staff, first.assigned_staff_id)
    assert declined_by is not None
    visit_actions.decline(session, visit=first, staff=declined_by, reason="no", now=NOW)
    session.commit()
    _place(session)
    assert first.status == second.status == "unassigned"
    assert second.unassigned_reason and "two different workers" in second.unassigned_reason
    withdrawn = session.scalars(sa.select(m.Message.body).where(
        m.Message.visit_id == second.id, m.Message.staff_id == partner_worker.id)).all()
    assert any("withdrawn" in body for body in withdrawn)


@pytest.mark.safety("H-130")
def test_whole_pairs_takes_a_lone_half_out_and_reports_both() -> None:
    """A plan serving one half of a link alone loses it; both are reported with reasons."""
    visits = (rt.Visit("a", 1, 600, 0, 3600), rt.Visit("b", 1, 600, 0, 3600))
    shift = rt.Shift("s", "w", 0, 0, 0, 7200)
    problem = rt.RoutingProblem(visits, (shift,), [[0, 60], [60, 0]],
                                links=(rt.Link("a", "b", 0, 0, "different"),))
    plan = rt.RoutingPlan((rt.Route("s", "w", (rt.Stop("a", 60, 60, 660),)),),
                          (rt.Unassigned("b", "no one else is on shift", "no_skill"),),
                          120, 0.0, 1, 0, 0.0)
    assert without_lone_halves(problem, plan).routes == ()
    whole = whole_pairs(problem, plan)
    assert whole.routes == ()
    assert {u.visit_id for u in whole.unassigned} == {"a", "b"}
    reason = next(u.reason for u in whole.unassigned if u.visit_id == "a")
    assert "no one else is on shift" in reason and "never served alone" in reason


def test_api_shows_partner_and_makes_a_visit_double_handed(
    client: FlaskClient, session: so.Session, carers: dict[str, Any],
    token_for: Callable[..., dict[str, str]],
) -> None:
    """GET /api/visits/{id} names the partner; POST .../double-handed links a new one (201)
    and a second POST is 409 (a visit is in one link at most)."""
    headers = token_for("coordinator")
    got = client.get(f"/api/visits/{carers['first'].id}", headers=headers).json
    assert got["staff_needed"] == 2
    assert got["partner"]["visit_id"] == carers["second"].id
    assert got["partner"]["kind"] == "double_handed" and got["partner"]["first"] is True
    ref = session.get(m.Referral, carers["first"].referral_id)
    assert ref is not None
    lone = f.visit(session, ref.id, carers["first"].patient_id, reference="2002",
                   network_id=carers["network"].id, skills=["personal_care"])
    session.commit()
    made = client.post(f"/api/visits/{lone.id}/double-handed", headers=headers,
                       json={"version": lone.version, "reason": "hoist at home"})
    assert made.status_code == 201, made.json
    assert made.json["partner"]["status"] == "unassigned"
    again = client.post(f"/api/visits/{lone.id}/double-handed", headers=headers,
                        json={"version": made.json["version"]})
    assert again.status_code == 409


def test_referral_with_a_hoist_transfer_books_two_linked_visits(
    client: FlaskClient, session: so.Session, token_for: Callable[..., dict[str, str]]
) -> None:
    """Triage's two-person need makes the visit double-handed: two visits, one link."""
    response = client.post("/api/referrals", json=_body(needs=["hoist_transfer"]),
                           headers=token_for("call_handler"))
    assert response.status_code == 201, response.json
    assert response.json["disposition"]["staff"] == 2
    ids = [v["id"] for v in response.json["visits"]]
    assert len(ids) == 2
    link = pairs.link_of(session, ids[0])
    assert link is not None and link.partner_of(ids[0]) == ids[1]


@pytest.mark.safety("H-130")
def test_half_whose_partner_is_under_way_is_held_to_the_partners_start(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """Once one carer is on the way, the other half is planned to start when that carer's
    visit does (the simulated day moved it elsewhere in 3 of 10 pairs before): its window
    is the partner's start."""
    from dispatch.planning.problem import build_problem

    _place(session)
    first, second = carers["first"], carers["second"]
    for visit in (first, second):
        worker = session.get(m.Staff, visit.assigned_staff_id)
        assert worker is not None
        visit_actions.accept(session, visit=visit, staff=worker, now=NOW)
    first.status = "en_route"
    session.commit()
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=carers["network"].id)
    assert first.planned_start is not None
    at = int((first.planned_start - index.start).total_seconds())
    held = problem.visit(str(second.id))
    assert (held.earliest, held.deadline) == (at, at)
    assert problem.links == ()


@pytest.mark.safety("H-130")
def test_a_half_moved_to_another_network_is_still_planned_with_its_partner(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """Cover moved one half to another network: this network's problem still holds both
    halves and their link (never one half planned alone)."""
    from dispatch.planning.problem import build_problem

    other = f.network(session, code="KC-1", name="K&C", borough="Kensington & Chelsea")
    carers["second"].network_id = other.id
    session.commit()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=carers["network"].id)
    assert {v.id for v in problem.visits} == {str(carers["first"].id), str(carers["second"].id)}
    assert len(problem.links) == 1


@pytest.mark.safety("H-100")
def test_each_acceptance_by_sms_says_whether_the_other_carer_has_accepted(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """Both must accept: the first ACCEPT is told its partner has not accepted yet (do not
    start alone), the second that the first has."""
    from dispatch.sms.inbound import handle_inbound

    _place(session)
    first, second = carers["first"], carers["second"]
    answers = []
    for visit, other in ((first, second), (second, first)):
        worker = session.get(m.Staff, visit.assigned_staff_id)
        partner = session.get(m.Staff, other.assigned_staff_id)
        assert worker is not None and partner is not None
        result = handle_inbound(session, from_number=worker.phone, to_number="+447700900999",
                                body=f"ACCEPT {visit.reference}", provider_sid=None, now=NOW)
        answers.append((result.answer or "", partner.code))
    assert f"2 staff: {answers[0][1]} has not accepted yet" in answers[0][0]
    assert "do not start the transfer alone" in answers[0][0]
    assert f"2 staff: {answers[1][1]} has accepted" in answers[1][0]
    assert first.status == second.status == "accepted"


@pytest.mark.safety("H-130")
def test_manual_assign_refuses_the_partners_own_worker(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """By hand, a coordinator cannot give both halves to one person (never saved, even
    confirmed); another carer at another start is a warning to confirm."""
    from dispatch.services import manual

    _place(session)
    first, second = carers["first"], carers["second"]
    worker = session.get(m.Staff, first.assigned_staff_id)
    assert worker is not None and first.planned_start is not None
    same = manual.check_assignment(session, visit=second, staff=worker,
                                   start=first.planned_start, provider=GeodesicTravelTime(),
                                   now=NOW)
    assert same.double_booked
    assert any("other half of this visit" in w for w in same.warnings)
    third = next(w for w in carers["workers"]
                 if w.id not in (first.assigned_staff_id, second.assigned_staff_id))
    later = manual.check_assignment(session, visit=second, staff=third,
                                    start=first.planned_start + timedelta(minutes=30),
                                    provider=GeodesicTravelTime(), now=NOW)
    assert not later.double_booked
    assert any("starts together" in w for w in later.warnings)


def test_a_visit_made_double_handed_after_its_offer_gets_a_second_carer_at_its_time(
    session: so.Session, carers: dict[str, Any]
) -> None:
    """The coordinator decides a visit already offered needs two staff: the placer books a
    second, different carer for the same start (the first keeps the offer or moves with it)."""
    ref = session.get(m.Referral, carers["first"].referral_id)
    assert ref is not None
    lone = f.visit(session, ref.id, carers["first"].patient_id, reference="2003",
                   network_id=carers["network"].id, skills=["personal_care"],
                   category="response_24h", priority=3, earliest_start=NOW,
                   deadline=NOW + timedelta(hours=6))
    session.commit()
    _place(session)
    assert lone.status == "offered"
    second = pairs.make_double_handed(session, visit=lone, now=NOW, actor=SYSTEM)
    session.commit()
    _place(session)
    assert lone.status == second.status == "offered"
    assert lone.assigned_staff_id != second.assigned_staff_id
    assert lone.planned_start == second.planned_start

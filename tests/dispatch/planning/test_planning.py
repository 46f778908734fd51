"""From the database to the solver and back: problem building, stored plans, the plans API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.jobs.runner import run_plans
from dispatch.planning import pipeline, runs
from dispatch.planning.problem import build_problem
from routing.checker import check_plan
from routing.solver import solve
from routing.travel import GeodesicTravelTime
from tests.dispatch import factories as f

NOW = datetime.fromisoformat("2026-12-01T10:20:00+00:00")  # the app's FIXED_NOW


@pytest.fixture
def world(session: so.Session) -> dict[str, Any]:
    """One network, one base, a nurse (wound care) and a hybrid worker (personal care) on shift,
    three patients near White City and three unassigned visits."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    nurse = f.staff(session, code="dn", network_id=net.id, base_id=base.id,
                    skills=["wound_care", "falls_assessment", "clinical_assessment"])
    hybrid = f.staff(session, code="hw", name="Hybrid", role="hybrid_worker",
                     phone="+447700900002", network_id=net.id, base_id=base.id,
                     skills=["personal_care", "medication_prompt"])
    shifts = {}
    for member in (nurse, hybrid):
        row = m.Shift(code=f"sh-{member.code}", staff_id=member.id, base_id=base.id,
                      starts_at=NOW - timedelta(hours=2), ends_at=NOW + timedelta(hours=6),
                      breaks=[{"start": (NOW + timedelta(hours=2)).isoformat(),
                               "end": (NOW + timedelta(hours=2, minutes=30)).isoformat()}])
        session.add(row)
        shifts[member.code] = row
    patients = []
    for i, (nhs, lat) in enumerate((("9434765919", 51.512), ("9434765870", 51.515),
                                     ("9434765927", 51.509))):
        patients.append(f.patient(session, nhs_number=nhs, family_name=f"P{i}", lat=lat,
                                  lon=-0.225, network_id=net.id))
    ref = f.referral(session, patients[0].id, network_id=net.id)
    visits = [
        f.visit(session, ref.id, patients[0].id, reference="1001", network_id=net.id,
                skills=["falls_assessment"], earliest_start=NOW, deadline=NOW + timedelta(hours=2)),
        f.visit(session, ref.id, patients[1].id, reference="1002", network_id=net.id,
                skills=["personal_care"], category="response_24h", priority=3,
                earliest_start=NOW, deadline=NOW + timedelta(hours=5)),
        f.visit(session, ref.id, patients[2].id, reference="1003", network_id=net.id,
                skills=["iv_therapy"], earliest_start=NOW, deadline=NOW + timedelta(hours=2)),
    ]
    session.commit()
    return {"network": net, "nurse": nurse, "hybrid": hybrid, "shifts": shifts,
            "visits": visits, "patients": patients}


def test_build_problem_maps_rows(session: so.Session, world: dict[str, Any]) -> None:
    """Shifts start at now (they began earlier), breaks keep their flex, visits keep skills."""
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    assert len(problem.shifts) == 2 and len(problem.visits) == 3
    shift = problem.shifts[0]
    assert shift.start == 0 and shift.end == 6 * 3600
    assert [(b.start_min, b.start_max, b.duration) for b in shift.breaks] == [
        (60 * 60, 180 * 60, 1800)]
    first = problem.visit(str(world["visits"][0].id))
    assert first.deadline == 2 * 3600 and first.skills == {"falls_assessment"}
    assert index.visits[first.id] == world["visits"][0].id


@pytest.mark.safety("H-236")
def test_build_problem_spares_nurses_work_that_needs_no_clinical_skill(
    session: so.Session, world: dict[str, Any]
) -> None:
    """The nurse (who can make a clinical assessment) is spared the 24-hour personal care a
    hybrid worker can do, not the IV therapy (issue 17), and never a 2-hour visit: the 2-hour
    falls assessment goes to whoever can get there soonest (an hour's skill-mix cost would
    buy up to an hour's wait for a person in crisis)."""
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    falls, care, iv = (problem.visit(str(v.id)) for v in world["visits"])
    assert care.spared_workers == {str(world["nurse"].id)}
    assert falls.spared_workers == iv.spared_workers == frozenset()


def test_build_problem_pins_accepted_and_frees_worker_after_visit_under_way(
    session: so.Session, world: dict[str, Any]
) -> None:
    """An accepted visit is pinned to its worker's shift; an on-site visit moves the start."""
    nurse, hybrid = world["nurse"], world["hybrid"]
    accepted, _, _ = world["visits"]
    accepted.status, accepted.assigned_staff_id, accepted.pinned = "accepted", nurse.id, True
    on_site = f.visit(session, world["visits"][1].referral_id, world["patients"][1].id,
                      reference="1004", network_id=world["network"].id, status="on_site",
                      assigned_staff_id=hybrid.id, pinned=True, arrived_at=NOW,
                      duration_minutes=40, earliest_start=NOW, deadline=NOW + timedelta(hours=1))
    session.commit()
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    pinned = problem.visit(str(accepted.id))
    assert pinned.pinned_to == str(world["shifts"]["dn"].id)
    assert str(on_site.id) not in {v.id for v in problem.visits}
    hybrid_shift = next(s for s in problem.shifts if s.worker_id == str(hybrid.id))
    assert hybrid_shift.start == 40 * 60
    assert hybrid_shift.start_location != hybrid_shift.end_location


@pytest.mark.parametrize("agreed_on_shift", [True, False])
def test_accepted_visit_stays_on_the_shift_it_was_agreed_on(
    session: so.Session, world: dict[str, Any], agreed_on_shift: bool
) -> None:
    """A worker with tonight's shift in the horizon too: the visit accepted this morning
    stays on this morning's shift (it was once pinned to the later one and planned at 21:35)."""
    nurse, current = world["nurse"], world["shifts"]["dn"]
    later = m.Shift(code="sh-dn-night", staff_id=nurse.id, base_id=current.base_id,
                    starts_at=NOW + timedelta(hours=11), ends_at=NOW + timedelta(hours=19),
                    breaks=[])
    session.add(later)
    accepted = world["visits"][0]
    accepted.status, accepted.assigned_staff_id, accepted.pinned = "accepted", nurse.id, True
    accepted.shift_id = current.id if agreed_on_shift else None
    session.commit()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    assert str(later.id) in {s.id for s in problem.shifts}
    assert problem.visit(str(accepted.id)).pinned_to == str(current.id)


def test_sick_worker_shift_ends_early(session: so.Session, world: dict[str, Any]) -> None:
    """A worker who went off sick is only planned until then."""
    world["shifts"]["hw"].sick_from = NOW + timedelta(hours=1)
    session.commit()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    hybrid_shift = next(s for s in problem.shifts if s.worker_id == str(world["hybrid"].id))
    assert hybrid_shift.end == 3600


def test_solved_problem_is_feasible(session: so.Session, world: dict[str, Any]) -> None:
    """The built problem solves to a plan the independent checker accepts."""
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    plan = solve(problem, seconds=1, workers=1)
    assert check_plan(problem, plan) == []
    served = {s.visit_id for r in plan.routes for s in r.stops}
    assert served == {str(world["visits"][0].id), str(world["visits"][1].id)}


def test_plans_api_round_trip(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],
) -> None:
    """POST /api/plans records a pending plan and solves nothing in the request; the plan job
    solves it; GET shows routes in database ids with reasons."""
    headers = token_for("coordinator")
    created = client.post("/api/plans", json={"network": world["network"].id, "seconds": 1},
                          headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["status"] == "pending" and created.json["result"] is None

    assert run_plans(app) == [created.json["id"]]

    got = client.get(f"/api/plans/{created.json['id']}", headers=headers).json
    assert got["status"] == "done"
    result = got["result"]
    nurse_route = next(r for r in result["routes"] if r["staff_id"] == world["nurse"].id)
    assert nurse_route["visits"] == [str(world["visits"][0].id)]
    assert nurse_route["arrivals"][0] >= "2026-12-01T10:20"
    [unassigned] = result["unassigned"]
    assert unassigned["id"] == str(world["visits"][2].id)
    assert unassigned["code"] == "no_skill" and "skill" in unassigned["reason"]


def test_plans_api_delete_cancels_pending(
    app: Flask, client: FlaskClient, token_for: Callable[..., dict[str, str]],
    world: dict[str, Any],
) -> None:
    """DELETE cancels a pending request: the job then skips it, and a second DELETE is a 409
    (it has finished); an unknown plan is a 404."""
    headers = token_for("coordinator")
    plan_id = client.post("/api/plans", json={"network": world["network"].id, "seconds": 1},
                          headers=headers).json["id"]

    cancelled = client.delete(f"/api/plans/{plan_id}", headers=headers)

    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled" and cancelled.json["finished_at"]
    assert run_plans(app) == []
    got = client.get(f"/api/plans/{plan_id}", headers=headers).json
    assert (got["status"], got["result"]) == ("cancelled", None)
    again = client.delete(f"/api/plans/{plan_id}", headers=headers)
    assert again.status_code == 409 and "cancelled" in again.json["message"]
    assert client.delete("/api/plans/424242", headers=headers).status_code == 404
    assert client.delete(f"/api/plans/{plan_id}",
                         headers=token_for("call_handler", username="ch")).status_code == 403


def test_plan_cancelled_while_solving_stores_nothing(
    app: Flask, session: so.Session, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel that arrives while the solve runs wins: the job drops the result instead of
    overwriting ``cancelled`` with ``done``."""
    plan = runs.create_plan(session, network_id=world["network"].id, horizon_hours=8,
                            seconds=1, now=NOW, requested_by="coordinator")
    session.commit()
    database = get_database(app)
    solve_now = pipeline.solve

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        with database.session_scope() as other:
            runs.cancel_plan(other, plan.id, now=NOW)
        return solve_now(*args, **kwargs)

    monkeypatch.setattr(pipeline, "solve", cancelled_meanwhile)

    status = runs.execute_plan(pipeline.ShortTransactions(database), plan_id=plan.id,
                               provider=GeodesicTravelTime(), now=NOW, workers=1)

    assert status == "cancelled"
    session.expire_all()
    stored = session.get(m.Plan, plan.id)
    assert stored is not None and (stored.status, stored.result) == ("cancelled", None)


def test_plans_api_validates(
    client: FlaskClient, token_for: Callable[..., dict[str, str]]
) -> None:
    """Unknown network and out-of-range seconds are 422s; unknown plan is 404."""
    headers = token_for("coordinator")
    bad = client.post("/api/plans", json={"network": 999, "seconds": 1}, headers=headers)
    assert bad.status_code == 422 and "network" in bad.json["errors"]
    assert client.post("/api/plans", json={"seconds": 0}, headers=headers).status_code == 422
    assert client.get("/api/plans/424242", headers=headers).status_code == 404


def test_idle_worker_starts_where_last_visit_ended(
    session: so.Session, world: dict[str, Any]
) -> None:
    """A worker who finished a visit this shift is planned from that home, not from base."""
    done = world["visits"][1]
    done.status, done.assigned_staff_id, done.pinned = "completed", world["hybrid"].id, True
    done.outcome, done.arrived_at = "visit_completed", NOW - timedelta(minutes=50)
    done.completed_at = NOW - timedelta(minutes=10)
    session.commit()
    problem, _ = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                               network_id=world["network"].id)
    hybrid = next(s for s in problem.shifts if s.worker_id == str(world["hybrid"].id))
    nurse = next(s for s in problem.shifts if s.worker_id == str(world["nurse"].id))
    assert hybrid.start_location != hybrid.end_location
    assert nurse.start_location == nurse.end_location


def test_apply_moves_accepted_visits_into_the_plans_order(
    session: so.Session, world: dict[str, Any]
) -> None:
    """The nurse accepted a visit due tonight at 10:40 and one due at 11:20 at 11:50 (the day
    was re-planned round something since). The plan serves the one due first first, and the
    rows follow it, so the worker's list is in the order that meets both deadlines."""
    from dispatch.planning.apply import apply_plan

    nurse, shift = world["nurse"], world["shifts"]["dn"]
    ref, patients = world["visits"][0].referral_id, world["patients"]
    tonight = f.visit(session, ref, patients[1].id, reference="2001", network_id=world[
        "network"].id, skills=["wound_care"], category="response_24h", priority=3,
        earliest_start=NOW, deadline=NOW + timedelta(hours=5))
    soon = f.visit(session, ref, patients[0].id, reference="2002", network_id=world[
        "network"].id, skills=["wound_care"], category="response_24h", priority=3,
        earliest_start=NOW, deadline=NOW + timedelta(hours=1))
    for row, start in ((tonight, NOW + timedelta(minutes=20)), (soon, NOW + timedelta(
            minutes=90))):
        row.status, row.assigned_staff_id, row.pinned = "accepted", nurse.id, True
        row.shift_id, row.planned_start = shift.id, start
    session.commit()
    problem, index = build_problem(session, now=NOW, provider=GeodesicTravelTime(),
                                   network_id=world["network"].id)
    plan = solve(problem, seconds=0.5, workers=1)

    apply_plan(session, plan=plan, index=index, now=NOW)

    assert soon.planned_start is not None and tonight.planned_start is not None
    assert soon.planned_start < tonight.planned_start
    assert soon.planned_start <= soon.deadline
    assert soon.status == tonight.status == "accepted"

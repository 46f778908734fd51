"""An urgent visit the insertion cannot fit is not sent to jeopardy while a re-optimisation of
its network would place it (issue 18, London benchmark finding).

At 1/10 London scale every urgent fall of a quiet run went to jeopardy (a coordinator paged
"needs a decision"): the district nurses' mornings were full of planned visits, and making room
for a 60-minute fall meant moving two of them, which the placer's insertion (single moves,
greedy) cannot do, while a re-optimisation of the same network placed the fall in 2-10 s. The
placer now re-optimises the network from the plan (``Options.rescue_seconds``) before it gives
a 2-hour visit up.

The insertion's failure is reproduced here by holding it to "no room" (what its 1-second budget
returned on the London networks of about 200 visits; a small morning the insertion's own
second phase does solve), so the test is about what the placer does next.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import orm as so

from dispatch import models as m
from dispatch.db import get_database
from dispatch.planning import pipeline
from routing import solver
from routing.travel import GeodesicTravelTime
from routing.types import RoutingPlan, RoutingProblem, Unassigned, Visit
from tests.dispatch import factories as f
from tests.dispatch.planning.test_planning import NOW

PROVIDER = GeodesicTravelTime()


@pytest.fixture
def full_morning(session: so.Session) -> dict[str, Any]:
    """One nurse on shift from now for four hours, her first two taken by four planned
    30-minute visits (offered, windows all morning), and a new urgent 60-minute fall that
    must start within the hour."""
    net = f.network(session)
    base = f.base(session, network_id=net.id)
    nurse = f.staff(session, code="dn", network_id=net.id, base_id=base.id,
                    skills=["wound_care", "falls_assessment"])
    shift = m.Shift(code="sh-dn", staff_id=nurse.id, base_id=base.id, starts_at=NOW,
                    ends_at=NOW + timedelta(hours=4), breaks=[])
    session.add(shift)
    nhs = ("9434765919", "9434765870", "4010232153", "4010232137", "4010232145")
    patients = [f.patient(session, nhs_number=n, family_name=f"P{i}", lat=51.51 + 0.001 * i,
                          lon=-0.23, network_id=net.id) for i, n in enumerate(nhs)]
    ref = f.referral(session, patients[0].id, network_id=net.id)
    session.flush()
    planned = []
    for i in range(4):
        start = NOW + timedelta(minutes=35 * i)
        visit = f.visit(session, ref.id, patients[i].id, reference=f"R00{i}", network_id=net.id,
                        category="planned", priority=4, skills=["wound_care"],
                        duration_minutes=30, earliest_start=NOW,
                        deadline=NOW + timedelta(hours=3), status="offered",
                        assigned_staff_id=nurse.id, shift_id=shift.id, planned_start=start)
        planned.append(visit)
    fall = f.visit(session, ref.id, patients[4].id, reference="U001", network_id=net.id,
                   duration_minutes=60, earliest_start=NOW,
                   deadline=NOW + timedelta(minutes=59))
    session.commit()
    return {"network": net, "nurse": nurse, "planned": planned, "fall": fall}


@pytest.fixture
def insertion_finds_no_room(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_room(plan: RoutingPlan, problem: RoutingProblem, visit: Visit, *,
                seconds: float = 1.0) -> RoutingPlan:
        missing = Unassigned(visit.id, "no capacity left: it could not be placed in the "
                             "current plan within the time budget", "no_capacity")
        return dataclasses.replace(plan, unassigned=(*plan.unassigned, missing))

    monkeypatch.setattr(solver, "insert_urgent", no_room)


def _place(app: Flask, world: dict[str, Any], rescue: float) -> pipeline.Report:
    return pipeline.run(
        pipeline.ShortTransactions(get_database(app)), now=NOW, provider=PROVIDER,
        network_id=world["network"].id, new_ids=[world["fall"].id],
        options=pipeline.Options(method="insert", seconds=0.5, rescue_seconds=rescue,
                                 solution_limit=200))


@pytest.mark.safety("H-092")
@pytest.mark.usefixtures("insertion_finds_no_room")
def test_urgent_visit_the_insertion_cannot_fit_is_placed_by_a_rescue(
    app: Flask, session: so.Session, full_morning: dict[str, Any]
) -> None:
    """The insertion alone leaves the fall out; with the rescue the nurse is offered the fall
    first and her planned visits move later in her morning: nothing goes to jeopardy."""
    fall, nurse = full_morning["fall"], full_morning["nurse"]

    report = _place(app, full_morning, rescue=2.0)

    session.expire_all()
    placed = session.get(m.Visit, fall.id)
    assert (placed.status, placed.assigned_staff_id) == ("offered", nurse.id)
    assert placed.jeopardy_cause is None
    assert placed.planned_start is not None
    assert placed.planned_start <= placed.deadline
    assert report.plan is not None and not report.apply.refused
    kept = [session.get(m.Visit, v.id) for v in full_morning["planned"]]
    assert all(v.status == "offered" and v.planned_start >= placed.planned_start
               + timedelta(minutes=60) for v in kept)


@pytest.mark.usefixtures("insertion_finds_no_room")
def test_without_the_rescue_the_insertion_leaves_it_to_a_person(
    app: Flask, session: so.Session, full_morning: dict[str, Any]
) -> None:
    """The control: the same morning with no rescue (the placer before): the fall is left
    unplaced and put in jeopardy, which is what the London run saw."""
    _place(app, full_morning, rescue=0.0)
    session.expire_all()
    fall = session.get(m.Visit, full_morning["fall"].id)
    assert fall.status == "unassigned"
    assert fall.jeopardy_cause == "needs_decision"

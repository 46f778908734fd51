"""Eligibility groups (issue 17 item 1): a visit's group limits who may serve it beyond skills.

The dispatch planner passes a patient's risk tier as the group and gives hybrid workers'
shifts the top two tiers in ``serves``; routing knows nothing of tiers, only the groups.
"""

from __future__ import annotations

import dataclasses

import pytest

from routing.checker import check_plan
from routing.insertion import greedy_plan
from routing.plan_io import problem_from_dict, problem_to_dict
from routing.screening import screen
from routing.solver import insert_urgent, solve
from routing.types import RoutingPlan, RoutingProblem, eligible
from tests.routing.conftest import CEILING, SOLUTIONS, ProblemFactory, make_shift, make_visit

TOP_TWO = frozenset({"very_high", "high"})


def _solve(problem: RoutingProblem) -> RoutingPlan:
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    return plan


def _served_by(plan: RoutingPlan) -> dict[str, str]:
    return {stop.visit_id: route.worker_id for route in plan.routes for stop in route.stops}


def test_eligible_needs_skills_and_group() -> None:
    hybrid = make_shift("h", serves=TOP_TWO)
    anyone = make_shift("n")
    high, moderate = make_visit("a", 1, group="high"), make_visit("b", 1, group="moderate")
    assert eligible(hybrid, high) and not eligible(hybrid, moderate)
    assert eligible(anyone, moderate)  # serves None: every group
    assert eligible(hybrid, make_visit("c", 1))  # a visit without a group: anyone skilled
    assert not eligible(hybrid, make_visit("d", 1, group="high", skills=frozenset({"iv"})))


@pytest.mark.safety("H-232")
def test_solver_keeps_a_worker_to_the_groups_they_serve(make_problem: ProblemFactory) -> None:
    """The hybrid worker is nearer (they start at the visits) but serves the top two tiers
    only: the moderate-tier visit goes to the nurse, the high-tier one may go to either."""
    hybrid = make_shift("h", worker_id="hybrid", start_location=1, end_location=1,
                        serves=TOP_TWO)
    nurse = make_shift("n", worker_id="nurse")
    visits = [make_visit("mod", 1, group="moderate"), make_visit("hi", 2, group="high")]

    plan = _solve(make_problem(visits, [hybrid, nurse]))

    assert _served_by(plan)["mod"] == "nurse"
    assert plan.unassigned == ()


@pytest.mark.safety("H-232")
def test_no_eligible_worker_is_reported_as_not_eligible(make_problem: ProblemFactory) -> None:
    """Only a hybrid worker on shift and a low-tier visit: left unassigned, saying why."""
    problem = make_problem([make_visit("low", 1, group="low")],
                           [make_shift("h", serves=TOP_TWO)])

    plan = _solve(problem)

    assert [(u.visit_id, u.code) for u in plan.unassigned] == [("low", "not_eligible")]
    assert "low" in plan.unassigned[0].reason
    assert screen(problem).candidates.get("low") is None


def test_greedy_and_urgent_insertion_respect_groups(make_problem: ProblemFactory) -> None:
    hybrid = make_shift("h", worker_id="hybrid", start_location=1, end_location=1,
                        serves=TOP_TWO)
    nurse = make_shift("n", worker_id="nurse")
    problem = make_problem([make_visit("mod", 1, group="moderate")], [hybrid, nurse])
    greedy = greedy_plan(problem, screen(problem))
    assert check_plan(problem, greedy) == []
    assert _served_by(greedy)["mod"] == "nurse"

    base = _solve(problem)
    urgent = make_visit("new", 1, group="very_low")
    full = dataclasses.replace(problem, visits=(*problem.visits, urgent))
    placed = insert_urgent(base, full, urgent, seconds=CEILING)
    assert check_plan(full, placed) == []
    assert _served_by(placed).get("new") in (None, "nurse")


def test_checker_flags_a_visit_outside_the_shifts_groups(make_problem: ProblemFactory) -> None:
    """A plan that gives a moderate-tier visit to a top-two-tiers shift is illegal."""
    problem = make_problem([make_visit("mod", 1, group="moderate")],
                           [make_shift("h", serves=TOP_TWO)])
    legal = _solve(make_problem([make_visit("mod", 1)], [make_shift("h", serves=TOP_TWO)]))
    assert _served_by(legal) == {"mod": "w-h"}

    assert any("does not serve moderate" in p for p in check_plan(problem, legal))


def test_groups_round_trip_through_json(make_problem: ProblemFactory) -> None:
    problem = make_problem([make_visit("a", 1, group="high"), make_visit("b", 1)],
                           [make_shift("h", serves=TOP_TWO), make_shift("n")])
    back = problem_from_dict(problem_to_dict(problem))
    assert [v.group for v in back.visits] == ["high", None]
    assert [s.serves for s in back.shifts] == [TOP_TWO, None]
    assert "group" not in problem_to_dict(problem)["visits"][1]  # old documents unchanged

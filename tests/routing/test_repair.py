"""The post-search repair: a dropped urgent visit goes where room exists, exactly and safely."""

from __future__ import annotations

import dataclasses

from routing.checker import check_plan
from routing.repair import repair_urgent
from routing.screening import screen
from routing.solver import solve
from routing.types import RoutingPlan, RoutingProblem, Unassigned
from tests.routing.conftest import CEILING, HOUR, SOLUTIONS, ProblemFactory, make_shift, make_visit


def _dropped(problem: RoutingProblem, visit_id: str) -> RoutingPlan:
    """A plan for ``problem`` solved without ``visit_id``, which it reports as dropped (what a
    time-limited search can leave behind)."""
    without = dataclasses.replace(
        problem, visits=tuple(v for v in problem.visits if v.id != visit_id)
    )
    plan = solve(without, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    missing = Unassigned(visit_id, "no capacity left", "no_capacity")
    return dataclasses.replace(plan, unassigned=(*plan.unassigned, missing))


def _served(plan: RoutingPlan) -> set[str]:
    return {stop.visit_id for route in plan.routes for stop in route.stops}


def test_dropped_urgent_visit_goes_into_spare_room(make_problem: ProblemFactory) -> None:
    problem = make_problem(
        [make_visit("a", 2, priority=4), make_visit("u", 3, priority=2, deadline=2 * HOUR)],
        [make_shift("s1")],
    )
    plan = _dropped(problem, "u")
    repaired = repair_urgent(problem, screen(problem), plan)
    assert _served(repaired) == {"a", "u"}
    assert repaired.unassigned == ()
    assert check_plan(problem, repaired) == []
    assert repaired.objective < plan.objective  # the drop penalty is saved


def test_urgent_visit_displaces_a_planned_one_when_there_is_no_other_room(
    make_problem: ProblemFactory,
) -> None:
    """A 2-hour shift holds one 90-minute visit: the urgent one takes the planned one's place,
    and the planned visit is reported with its reason, not lost."""
    short = make_shift("s1", end=2 * HOUR)
    problem = make_problem(
        [
            make_visit("p", 1, duration=90 * 60, priority=4),
            make_visit("u", 1, duration=90 * 60, priority=2, deadline=2 * HOUR),
        ],
        [short],
    )
    plan = _dropped(problem, "u")
    assert _served(plan) == {"p"}
    repaired = repair_urgent(problem, screen(problem), plan)
    assert _served(repaired) == {"u"}
    assert [(u.visit_id, u.code) for u in repaired.unassigned] == [("p", "no_capacity")]
    assert check_plan(problem, repaired) == []


def test_displaced_visit_moves_to_another_worker_when_it_can(make_problem: ProblemFactory) -> None:
    """Only the first nurse has the skill the urgent visit needs; the planned visit she had
    goes to the second nurse instead of being dropped."""
    problem = make_problem(
        [
            make_visit("p", 1, duration=90 * 60, priority=4),
            make_visit("u", 1, duration=90 * 60, priority=2, deadline=2 * HOUR,
                       skills=frozenset({"iv_therapy"})),
        ],
        [
            make_shift("s1", end=2 * HOUR, skills=frozenset({"nurse", "iv_therapy"})),
            make_shift("s2", start=2 * HOUR, end=5 * HOUR),
        ],
    )
    # The plan made before the second nurse came on: the planned visit is with the first.
    plan = _dropped(dataclasses.replace(problem, shifts=problem.shifts[:1]), "u")
    assert plan.route_of("p") is not None and plan.route_of("p").shift_id == "s1"
    repaired = repair_urgent(problem, screen(problem), plan)
    assert repaired.route_of("u") is not None and repaired.route_of("u").shift_id == "s1"
    assert repaired.route_of("p") is not None and repaired.route_of("p").shift_id == "s2"
    assert repaired.unassigned == ()


def test_pinned_visits_are_never_displaced(make_problem: ProblemFactory) -> None:
    short = make_shift("s1", end=2 * HOUR)
    problem = make_problem(
        [
            make_visit("p", 1, duration=90 * 60, priority=4, pinned_to="s1", pinned_start=300),
            make_visit("u", 1, duration=90 * 60, priority=2, deadline=2 * HOUR),
        ],
        [short],
    )
    plan = _dropped(problem, "u")
    repaired = repair_urgent(problem, screen(problem), plan)
    assert repaired is plan
    assert _served(repaired) == {"p"}


def test_only_less_urgent_visits_make_room(make_problem: ProblemFactory) -> None:
    """Another 2-hour visit is never taken out for a 2-hour one; and dropped 24-hour visits are
    left to the search (the repair is for urgent visits)."""
    short = make_shift("s1", end=2 * HOUR)
    problem = make_problem(
        [
            make_visit("u1", 1, duration=90 * 60, priority=2, deadline=2 * HOUR),
            make_visit("u2", 1, duration=90 * 60, priority=2, deadline=2 * HOUR),
            make_visit("d", 2, duration=90 * 60, priority=3),
        ],
        [short],
    )
    plan = _dropped(problem, "u2")
    assert _served(plan) == {"u1"}
    repaired = repair_urgent(problem, screen(problem), plan)
    assert _served(repaired) == {"u1"}
    assert {u.visit_id for u in repaired.unassigned} == {"u2", "d"}

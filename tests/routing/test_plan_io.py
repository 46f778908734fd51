"""JSON round trips of problems and plans."""

from __future__ import annotations

import pytest

from routing.errors import PlanFormatError
from routing.plan_io import plan_from_dict, plan_to_dict, problem_from_dict, problem_to_dict
from routing.solver import solve
from routing.types import Break
from tests.routing.conftest import CEILING, HOUR, SOLUTIONS, ProblemFactory, make_shift, make_visit


def test_problem_round_trip(make_problem: ProblemFactory) -> None:
    """A problem written to JSON and read back has the same visits, shifts and matrix."""
    shift = make_shift(breaks=(Break(HOUR, 2 * HOUR, 900),), capacity=3)
    visit = make_visit("v1", 3, skills=frozenset({"nurse"}), preferred_workers=frozenset({"w"}),
                       avoided_workers=frozenset({"x"}))
    problem = make_problem([visit], [shift], late_policy="serve_late", seed=3)

    again = problem_from_dict(problem_to_dict(problem))

    assert again.visits == problem.visits and again.shifts == problem.shifts
    assert (again.travel == problem.travel).all() and again.late_policy == "serve_late"


def test_problem_from_dict_missing_key() -> None:
    """A problem without shifts is rejected with the key named."""
    with pytest.raises(PlanFormatError, match="'shifts'"):
        problem_from_dict({"travel": [[0]], "visits": []})


def test_problem_from_dict_bad_matrix() -> None:
    """A non-square travel matrix is rejected as a format error."""
    with pytest.raises(PlanFormatError, match="square"):
        problem_from_dict({"travel": [[0, 1]], "visits": [], "shifts": []})


def test_plan_to_dict_design_shape(make_problem: ProblemFactory) -> None:
    """The plan document has every DESIGN.md key, arrivals in minutes, reasons per visit."""
    visits = [make_visit("v1", 2), make_visit("v2", 1, skills=frozenset({"iv"}))]
    problem = make_problem(visits, [make_shift()])
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    doc = plan_to_dict(plan, problem)

    assert {"routes", "distance", "travel_minutes", "vehicles", "unassigned", "seconds"} <= set(doc)
    assert doc["routes"][0]["vehicle"] == "s1" and doc["routes"][0]["visits"] == ["v1"]
    assert doc["routes"][0]["arrivals"] == [10.0]
    assert doc["unassigned"][0]["id"] == "v2" and doc["unassigned"][0]["reason"]
    assert doc["travel_minutes"] == 20.0


def test_plan_round_trip_keeps_routes(make_problem: ProblemFactory) -> None:
    """A plan read back from JSON keeps its shifts, visit order and start times."""
    problem = make_problem([make_visit("v1", 2), make_visit("v2", 5)], [make_shift()])
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    again = plan_from_dict(plan_to_dict(plan, problem, time_unit=1.0), time_unit=1.0)

    assert [[s.visit_id for s in r.stops] for r in again.routes] == [
        [s.visit_id for s in r.stops] for r in plan.routes
    ]
    assert [s.start for s in again.routes[0].stops] == [s.start for s in plan.routes[0].stops]

"""Each worker's own travel (issue 15 item 3): named travel profiles, one per shift."""

from __future__ import annotations

import pytest

from routing.checker import check_plan
from routing.solver import solve
from routing.types import RoutingPlan, RoutingProblem
from tests.routing.conftest import ProblemFactory, line_travel, make_shift, make_visit

SOLUTIONS = 30
CEILING = 2.0


def _solve(problem: RoutingProblem) -> RoutingPlan:
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    return plan


def _walk() -> object:
    """Walking takes four times as long as the default (car) matrix."""
    return line_travel(range(11)) * 4


def test_profile_walker_cannot_reach_far_visit_in_time(make_problem: ProblemFactory) -> None:
    """A visit 50 minutes' drive away (200 on foot), due in 50: only the driver is on time."""
    visit = make_visit("far", 10, deadline=3000)
    problem = make_problem(
        [visit],
        [make_shift("walker", profile="walk"), make_shift("driver")],
        travel_profiles={"walk": _walk()},
    )
    plan = _solve(problem)
    assert plan.route_of("far").shift_id == "driver"  # type: ignore[union-attr]


def test_profile_route_travel_uses_own_matrix(make_problem: ProblemFactory) -> None:
    """A walker's route is timed and its travel counted with the walking matrix."""
    problem = make_problem(
        [make_visit("near", 2)],
        [make_shift("walker", profile="walk")],
        travel_profiles={"walk": _walk()},
    )
    plan = _solve(problem)
    route = plan.routes[0]
    assert route.stops[0].arrival == 2 * 300 * 4
    assert route.travel == 2 * 2 * 300 * 4


def test_profile_unknown_is_refused(make_problem: ProblemFactory) -> None:
    """A shift naming a profile the problem does not have is refused on construction."""
    with pytest.raises(ValueError, match="unknown travel profile"):
        make_problem([make_visit("a", 1)], [make_shift("s1", profile="cycle")])


def test_profile_checker_catches_walker_timed_by_car(make_problem: ProblemFactory) -> None:
    """A plan that times a walker with the car matrix is caught by the checker."""
    problem = make_problem(
        [make_visit("near", 2)],
        [make_shift("walker", profile="walk")],
        travel_profiles={"walk": _walk()},
    )
    plan = _solve(problem)
    car = make_problem([make_visit("near", 2)], [make_shift("walker")])
    car_plan = _solve(car)
    assert check_plan(problem, car_plan) != []
    assert check_plan(problem, plan) == []

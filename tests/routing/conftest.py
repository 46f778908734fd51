"""Small hand-built routing instances shared by the routing tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from routing.checker import check_plan
from routing.solver import solve
from routing.types import RoutingPlan, RoutingProblem, Shift, Visit

#: Accepted solutions after which a test's search stops: the plan a test asserts on is then
#: a function of the problem and seed, not of the machine's load (hazard H-011).
SOLUTIONS = 100
#: Wall-clock ceiling for such a search, a safety net: a search on a tiny problem runs out
#: of moves before it has SOLUTIONS solutions (one visit on one shift has no neighbour) and
#: stops here with the plan it already had; anything larger reaches the limit well before.
CEILING = 2.0
#: Seconds of travel per unit of distance on the test line (5 minutes).
SECONDS_PER_UNIT = 300
HOUR = 3600


def line_travel(positions: Sequence[int]) -> np.ndarray:
    """Travel matrix for locations on a straight line (symmetric, triangle inequality)."""
    points = np.asarray(positions, dtype=np.int64)
    return np.abs(points[:, None] - points[None, :]) * SECONDS_PER_UNIT


def make_shift(shift_id: str = "s1", **overrides: object) -> Shift:
    """An 8-hour shift from base 0 with the nurse skill unless overridden."""
    values: dict[str, object] = dict(
        id=shift_id,
        worker_id=f"w-{shift_id}",
        start_location=0,
        end_location=0,
        start=0,
        end=8 * HOUR,
        skills=frozenset({"nurse"}),
    )
    values.update(overrides)
    return Shift(**values)  # type: ignore[arg-type]


def make_visit(visit_id: str, location: int, **overrides: object) -> Visit:
    """A 30-minute visit open all day unless overridden."""
    values: dict[str, object] = dict(
        id=visit_id,
        location=location,
        duration=1800,
        earliest=0,
        deadline=8 * HOUR,
    )
    values.update(overrides)
    return Visit(**values)  # type: ignore[arg-type]


ProblemFactory = Callable[..., RoutingProblem]


@pytest.fixture
def make_problem() -> ProblemFactory:
    """Build a problem on a line of locations 0..10 (base at 0)."""

    def build(visits: Sequence[Visit], shifts: Sequence[Shift], **kwargs: object) -> RoutingProblem:
        travel = line_travel(range(11))
        return RoutingProblem(visits=tuple(visits), shifts=tuple(shifts), travel=travel, **kwargs)  # type: ignore[arg-type]

    return build


def solve_checked(problem: RoutingProblem, solutions: int = SOLUTIONS) -> RoutingPlan:
    """One single-process solve, stopped by a solution limit, whose plan must pass the
    independent checker."""
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=solutions)
    assert check_plan(problem, plan) == []
    return plan


def shift_of(plan: RoutingPlan, visit_id: str) -> str | None:
    """The shift serving ``visit_id`` in ``plan``, or None."""
    route = plan.route_of(visit_id)
    return None if route is None else route.shift_id

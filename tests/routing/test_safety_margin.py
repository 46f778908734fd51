"""The safety margin: a non-urgent visit is planned well before its deadline where that costs
little, so one overrunning visit earlier in the day does not make it late."""

from __future__ import annotations

import numpy as np

from routing.checker import check_plan
from routing.costs import MARGIN_COST_PER_SECOND, SAFETY_MARGIN, margin_start
from routing.insertion import retime
from routing.screening import screen
from routing.solver import solve
from routing.types import PRIORITY_LOWEST, PRIORITY_URGENT_2H, RoutingProblem, Shift, Visit
from tests.routing.conftest import CEILING, HOUR, SOLUTIONS

MINUTE = 60


def _problem(objective: str = "time") -> RoutingProblem:
    """Base 0, visits at 1 (long, due tonight) and 2 (short, due in 90 minutes), home at 3.

    Serving 1 then 2 drives 10 minutes less but starts visit 2 twenty minutes inside its
    margin; serving 2 first keeps it clear of the margin.
    """
    travel = np.array(
        [[0, 10, 10, 10], [10, 0, 10, 15], [10, 10, 0, 5], [10, 15, 5, 0]], dtype=np.int64
    ) * MINUTE
    visits = (
        Visit("long", 1, duration=60 * MINUTE, earliest=0, deadline=8 * HOUR),
        Visit("due-soon", 2, duration=30 * MINUTE, earliest=0, deadline=90 * MINUTE),
    )
    shift = Shift("s", "w", start_location=0, end_location=3, start=0, end=8 * HOUR)
    distance = travel if objective == "distance" else None
    return RoutingProblem(visits=visits, shifts=(shift,), travel=travel, distance=distance,
                          objective=objective)  # type: ignore[arg-type]


def _order(problem: RoutingProblem) -> list[str]:
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    [route] = plan.routes
    return [stop.visit_id for stop in route.stops]


def test_visit_due_soon_goes_first_though_it_drives_further() -> None:
    """Twenty minutes inside the margin outweigh ten minutes of driving."""
    assert _order(_problem()) == ["due-soon", "long"]


def test_re_timing_charges_the_margin_as_the_search_does() -> None:
    """The fast insertion's exact re-timing prices the same 20 minutes inside the margin."""
    problem = _problem()
    shift, (long, soon) = problem.shifts[0], problem.visits
    screening = screen(problem)
    late_order = retime(problem, screening, shift, [long, soon])
    early_order = retime(problem, screening, shift, [soon, long])
    assert late_order is not None and early_order is not None
    inside = 80 * MINUTE - (soon.deadline - SAFETY_MARGIN)
    assert late_order.cost == late_order.travel + MARGIN_COST_PER_SECOND * inside
    assert early_order.cost == early_order.travel


def test_no_margin_for_urgent_planned_pinned_or_distance_objective() -> None:
    """Urgent visits are already pulled early; planned ones have days of window (and the
    margin cost urgent visits on an overloaded day); pinned ones belong to their worker; a
    distance objective (the Solomon benchmark) is about distance alone."""
    problem = _problem()
    soon = problem.visits[1]
    assert margin_start(problem, soon) == soon.deadline - SAFETY_MARGIN
    urgent = Visit("u", 2, duration=60, earliest=0, deadline=HOUR, priority=PRIORITY_URGENT_2H)
    assert margin_start(problem, urgent) is None
    planned = Visit("d", 2, duration=60, earliest=0, deadline=HOUR, priority=PRIORITY_LOWEST)
    assert margin_start(problem, planned) is None
    pinned = Visit("p", 2, duration=60, earliest=0, deadline=HOUR, pinned_to="s")
    assert margin_start(problem, pinned) is None
    assert margin_start(_problem("distance"), soon) is None

"""Urgent visits are served as early as possible, not merely before their deadline."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from routing.checker import check_plan
from routing.solver import solve
from routing.types import RoutingPlan, RoutingProblem, Shift, Visit
from tests.routing.conftest import CEILING, SOLUTIONS


def _one_worker_plan(travel: npt.NDArray[np.int64],
                     *visits: Visit) -> tuple[RoutingProblem, RoutingPlan]:
    """``visits`` planned for one worker on an eight-hour shift from base 0, and the plan."""
    problem = RoutingProblem(
        visits=visits, travel=travel,
        shifts=(Shift(id="s", worker_id="w", start_location=0, end_location=0, start=0,
                      end=8 * 3600),),
    )
    return problem, solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)


def test_urgent_visit_first_when_travel_is_equal() -> None:
    """Two visits on opposite sides of the base: the 2-hour one is seen first, at once."""
    travel = np.array([[0, 600, 600], [600, 0, 1200], [600, 1200, 0]], dtype=np.int64)
    urgent = Visit(id="u", location=1, duration=1800, earliest=0, deadline=7200, priority=2)
    routine = Visit(id="r", location=2, duration=1800, earliest=0, deadline=7200, priority=3)
    problem, plan = _one_worker_plan(travel, routine, urgent)
    assert check_plan(problem, plan) == []
    [route] = plan.routes
    assert [stop.visit_id for stop in route.stops] == ["u", "r"]
    assert route.stops[0].start == 600


def test_urgent_visit_not_delayed_for_a_small_travel_saving() -> None:
    """Serving a routine visit on the way would save 5 minutes but delay the urgent one by
    35: the urgent visit goes first."""
    # base 0; routine at 1 (5 min), urgent at 2 (10 min from base, 10 min from routine)
    travel = np.array([[0, 300, 600], [300, 0, 600], [600, 600, 0]], dtype=np.int64)
    urgent = Visit(id="u", location=2, duration=1200, earliest=0, deadline=7200, priority=2)
    routine = Visit(id="r", location=1, duration=1800, earliest=0, deadline=14400, priority=4)
    problem, plan = _one_worker_plan(travel, urgent, routine)
    [route] = plan.routes
    assert route.stops[0].visit_id == "u" and route.stops[0].start == 600


def test_insert_urgent_prefers_the_earliest_start_over_less_travel() -> None:
    """Fast insertion weighs waiting too: a free worker slightly further away beats a busy
    one next door who could only come after a long visit."""
    from routing.solver import insert_urgent

    # base A (0) with a busy worker next to the new visit; base B (1) with an idle worker
    travel = np.array([[0, 900, 300, 60], [900, 0, 900, 900],
                       [300, 900, 0, 300], [60, 900, 300, 0]], dtype=np.int64)
    long_visit = Visit(id="long", location=3, duration=3 * 3600, earliest=0, deadline=600,
                       priority=4, pinned_to="busy", pinned_start=60)
    shifts = (Shift(id="busy", worker_id="a", start_location=0, end_location=0, start=0,
                    end=8 * 3600),
              Shift(id="idle", worker_id="b", start_location=1, end_location=1, start=0,
                    end=8 * 3600))
    problem = RoutingProblem(visits=(long_visit,), shifts=shifts, travel=travel)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    urgent = Visit(id="u", location=2, duration=1800, earliest=0, deadline=7200 * 2,
                   priority=2)
    after = insert_urgent(plan, problem, urgent, seconds=CEILING)
    route = after.route_of("u")
    assert route is not None and route.shift_id == "idle"


def test_isolated_searches_give_the_same_plan() -> None:
    """With searches isolated in forked children (the web+jobs process), plans are unchanged."""
    from routing.solver import isolate_searches

    travel = np.array([[0, 600, 600], [600, 0, 1200], [600, 1200, 0]], dtype=np.int64)
    visits = (Visit(id="u", location=1, duration=1800, earliest=0, deadline=7200, priority=2),
              Visit(id="r", location=2, duration=1800, earliest=0, deadline=7200, priority=3))
    problem = RoutingProblem(
        visits=visits, travel=travel,
        shifts=(Shift(id="s", worker_id="w", start_location=0, end_location=0, start=0,
                      end=8 * 3600),),
    )
    here = solve(problem, seconds=CEILING, workers=1, solution_limit=50)
    isolate_searches(on=True)
    try:
        there = solve(problem, seconds=CEILING, workers=1, solution_limit=50)
    finally:
        isolate_searches(on=False)
    assert [[s.visit_id for s in r.stops] for r in there.routes] == [
        [s.visit_id for s in r.stops] for r in here.routes]


@pytest.mark.safety("H-245")
def test_an_accepted_urgent_visit_is_still_served_first() -> None:
    """An accepted (pinned) 2-hour visit keeps the urgency pull of an unaccepted one: the
    routine visit on the way would save 5 minutes and still leave the urgent one before its
    deadline, but it waits 35 minutes more (H-245: accepted 2-hour visits planned just before
    their deadlines, so any overrun in the field made them late)."""
    travel = np.array([[0, 300, 600], [300, 0, 600], [600, 600, 0]], dtype=np.int64)
    urgent = Visit(id="u", location=2, duration=1200, earliest=0, deadline=7200, priority=2,
                   pinned_to="s")
    routine = Visit(id="r", location=1, duration=1800, earliest=0, deadline=14400, priority=4)
    problem, plan = _one_worker_plan(travel, urgent, routine)
    assert check_plan(problem, plan) == []
    [route] = plan.routes
    assert route.stops[0].visit_id == "u" and route.stops[0].start == 600


@pytest.mark.safety("H-245")
def test_an_accepted_urgent_visit_running_late_still_weighs_as_late() -> None:
    """The pinned deadline stays soft and dear: a worker who can reach only one of two
    accepted 2-hour visits in time serves the one whose deadline comes first, and the other
    is kept (late), not dropped. The urgency pull alone would see the nearer one first."""
    travel = np.array([[0, 900, 600], [900, 0, 600], [600, 600, 0]], dtype=np.int64)
    soon = Visit(id="soon", location=1, duration=3600, earliest=0, deadline=1800, priority=2,
                 pinned_to="s")
    later = Visit(id="later", location=2, duration=3600, earliest=0, deadline=3600,
                  priority=2, pinned_to="s")
    problem, plan = _one_worker_plan(travel, later, soon)
    [route] = plan.routes
    assert [stop.visit_id for stop in route.stops] == ["soon", "later"]
    assert [stop.start for stop in route.stops] == [900, 5100]

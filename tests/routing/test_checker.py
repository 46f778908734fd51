"""The independent checker catches each kind of violation in hand-written plans."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routing.checker import check_plan
from routing.types import (
    Break,
    LateVisit,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Stop,
    Unassigned,
)
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit


def _plan(*routes: Route, unassigned: tuple[Unassigned, ...] = ()) -> RoutingPlan:
    return RoutingPlan(
        routes=routes,
        unassigned=unassigned,
        travel_total=0,
        distance_total=0.0,
        vehicles_used=len(routes),
        objective=0,
        seconds=0.0,
    )


def _route(stops: list[tuple[str, int, int]], **kwargs: object) -> Route:
    values: dict[str, object] = dict(
        shift_id="s1", worker_id="w-s1", departure=0, return_time=4 * HOUR
    )
    values.update(kwargs)
    return Route(stops=tuple(Stop(v, s, s, s + d) for v, s, d in stops), **values)  # type: ignore[arg-type]


@pytest.fixture
def problem(make_problem: ProblemFactory) -> RoutingProblem:
    """Two 30-minute visits at locations 2 and 4 (10 and 20 minutes from base)."""
    visits = [make_visit("a", 2), make_visit("b", 4, earliest=HOUR, deadline=2 * HOUR)]
    return make_problem(visits, [make_shift(breaks=(Break(2 * HOUR, 3 * HOUR, 1800),))])


def _good_route() -> Route:
    return _route(
        [("a", 600, 1800), ("b", HOUR, 1800)], breaks=(PlacedBreak(2 * HOUR, 2 * HOUR + 1800),)
    )


def test_check_plan_accepts_feasible(problem: RoutingProblem) -> None:
    """A hand-timed feasible plan has no violations (the checker is not trivially strict)."""
    assert check_plan(problem, _plan(_good_route())) == []


def test_check_plan_travel_too_fast(problem: RoutingProblem) -> None:
    """Starting a visit before the worker can have driven there is flagged."""
    route = dataclasses.replace(
        _good_route(), stops=(Stop("a", 300, 300, 2100), _good_route().stops[1])
    )
    assert any("cannot arrive" in p for p in check_plan(problem, _plan(route)))


def test_check_plan_deadline_missed(problem: RoutingProblem) -> None:
    """A start after the deadline is flagged unless late is allowed and reported."""
    route = _route(
        [("a", 600, 1800), ("b", 2 * HOUR + 60, 1800)],
        breaks=(PlacedBreak(3 * HOUR, 3 * HOUR + 1800),),
    )
    assert any("deadline" in p for p in check_plan(problem, _plan(route)))


def test_check_plan_late_needs_policy(problem: RoutingProblem) -> None:
    """Reporting a reachable visit as late does not excuse it, even under serve_late."""
    late_problem = dataclasses.replace(problem, late_policy="serve_late")
    route = _route(
        [("a", 600, 1800), ("b", 2 * HOUR + 60, 1800)],
        breaks=(PlacedBreak(3 * HOUR, 3 * HOUR + 1800),),
    )
    plan = dataclasses.replace(_plan(route), late=(LateVisit("b", 2 * HOUR, 2 * HOUR + 60),))
    assert any("deadline" in p for p in check_plan(late_problem, plan))


def test_check_plan_missing_and_duplicate(problem: RoutingProblem) -> None:
    """Each visit must appear exactly once, routed or unassigned."""
    route = _route([("a", 600, 1800)], breaks=(PlacedBreak(2 * HOUR, 2 * HOUR + 1800),))
    plan = _plan(route, unassigned=(Unassigned("a", "x", "no_capacity"),))
    found = check_plan(problem, plan)
    assert any("a appears 2 times" in p for p in found)
    assert any("b is neither" in p for p in found)


def test_check_plan_skill_missing(make_problem: ProblemFactory) -> None:
    """A visit on a shift without its skill is flagged."""
    problem = make_problem([make_visit("a", 2, skills=frozenset({"iv"}))], [make_shift()])
    assert any("lacks skills" in p for p in check_plan(problem, _plan(_route([("a", 600, 1800)]))))


def test_check_plan_break_overlaps_visit(problem: RoutingProblem) -> None:
    """A break placed during a visit is flagged."""
    route = dataclasses.replace(_good_route(), breaks=(PlacedBreak(HOUR, HOUR + 1800),))
    assert check_plan(problem, _plan(route)) != []


def test_check_plan_pin_moved(make_problem: ProblemFactory) -> None:
    """A pinned visit started at another time is flagged."""
    problem = make_problem([make_visit("a", 2, pinned_to="s1", pinned_start=HOUR)], [make_shift()])
    assert any("moved" in p for p in check_plan(problem, _plan(_route([("a", 600, 1800)]))))


def test_check_plan_capacity(make_problem: ProblemFactory) -> None:
    """A load over the shift's capacity is flagged."""
    problem = make_problem([make_visit("a", 2, demand=5)], [make_shift(capacity=4)])
    assert any("capacity" in p for p in check_plan(problem, _plan(_route([("a", 600, 1800)]))))


def test_check_plan_shift_end(make_problem: ProblemFactory) -> None:
    """Returning to base after the shift ends is flagged."""
    problem = make_problem([make_visit("a", 2)], [make_shift(end=2400)])
    route = _route([("a", 600, 1800)], return_time=2400)
    assert any("ends after" in p or "back at base" in p for p in check_plan(problem, _plan(route)))


@pytest.mark.safety("H-013")
def test_double_bookings_counts_travel_between_visits() -> None:
    """Back to back is fine where the two are in one place; ten minutes' drive apart it is a
    double booking. Other workers' bookings never clash with these."""
    from routing.checker import Booking, double_bookings

    travel = np.array([[0, 600], [600, 0]])
    here = [Booking("a", "w1", 0, 1800, 0), Booking("b", "w1", 1800, 3600, 0)]
    apart = [Booking("a", "w1", 0, 1800, 0), Booking("b", "w1", 2000, 3600, 1)]
    spaced = [Booking("a", "w1", 0, 1800, 0), Booking("b", "w1", 2400, 3600, 1)]
    others = [Booking("a", "w1", 0, 1800, 0), Booking("b", "w2", 0, 1800, 1)]
    assert double_bookings(here, travel) == []
    assert [(a.visit_id, b.visit_id) for a, b in double_bookings(apart, travel)] == [("a", "b")]
    assert double_bookings(spaced, travel) == []
    assert double_bookings(others, travel) == []


@pytest.mark.safety("H-013")
def test_double_bookings_finds_a_visit_inside_another() -> None:
    """A short visit wholly inside a long one clashes, whatever comes after both."""
    from routing.checker import Booking, double_bookings

    travel = np.zeros((1, 1), dtype=np.int64)
    held = [Booking("long", "w", 0, 7200, 0), Booking("short", "w", 600, 1200, 0),
            Booking("later", "w", 7200, 7800, 0)]
    assert [(a.visit_id, b.visit_id) for a, b in double_bookings(held, travel)] == [
        ("long", "short")]

"""Lateness as a cost (issue 15 item 2): with ``serve_late`` and ``lateness`` every visit may
start late, each second priced, the largest lateness priced on top, late visits listed."""

from __future__ import annotations

from routing.checker import check_plan, lateness_of
from routing.costs import priority_scale
from routing.plan_io import plan_to_dict
from routing.solver import solve
from routing.types import Lateness, RoutingPlan, RoutingProblem
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit

SOLUTIONS = 30
CEILING = 2.0


def _solve(problem: RoutingProblem) -> RoutingPlan:
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    return plan


def _crowded(make_problem: ProblemFactory, **kwargs: object) -> RoutingProblem:
    """Two one-hour visits at the same house, both due to start by 0:30: one must be late."""
    visits = [
        make_visit(v, 5, duration=HOUR, earliest=0, deadline=1800 + 1500) for v in ("a", "b")
    ]
    return make_problem(visits, [make_shift("s1")], **kwargs)


def test_lateness_serves_late_instead_of_dropping(make_problem: ProblemFactory) -> None:
    """Both visits could each be on time, not both: with lateness as a cost both are served
    and the late one is listed with its minutes; without it one is dropped."""
    dropped = _solve(_crowded(make_problem))
    assert len(dropped.unassigned) == 1
    problem = _crowded(make_problem, late_policy="serve_late", lateness=Lateness(1, 0))
    plan = _solve(problem)
    assert plan.unassigned == ()
    assert len(plan.late) == 1
    late = plan.late[0]
    assert late.seconds == late.start - late.deadline > 0
    document = plan_to_dict(plan, problem)
    assert document["late"][0]["id"] == late.visit_id
    assert document["late"][0]["minutes"] == round(late.seconds / 60, 3)


def test_lateness_without_serve_late_stays_hard(make_problem: ProblemFactory) -> None:
    """``lateness`` alone with ``late_policy: drop`` keeps deadlines hard."""
    plan = _solve(_crowded(make_problem, late_policy="drop", lateness=Lateness(1, 1)))
    assert len(plan.unassigned) == 1
    assert plan.late == ()


def test_max_lateness_is_charged_per_second(make_problem: ProblemFactory) -> None:
    """The largest lateness costs max_cost_per_second per second (the MaxLate span): on a
    forced plan the objectives differ by exactly that."""
    visit = make_visit("a", 5, duration=600, earliest=0, deadline=0)
    base = dict(late_policy="serve_late")
    cheap = make_problem([visit], [make_shift("s1")], lateness=Lateness(1, 0), **base)
    dear = make_problem([visit], [make_shift("s1")], lateness=Lateness(1, 1000), **base)
    plan_cheap, plan_dear = _solve(cheap), _solve(dear)
    assert lateness_of(cheap, plan_cheap) == (1500, 1500)  # 5 units x 300 s from base
    assert plan_dear.objective - plan_cheap.objective == 1000 * 1500


def test_max_lateness_spreads_the_delay(make_problem: ProblemFactory) -> None:
    """A heavy max-lateness cost shares the delay: serving the long visit first would make
    one visit very late; the plan keeps the largest lateness as small as it can be."""
    visits = [
        make_visit("long", 1, duration=3 * HOUR, earliest=0, deadline=0),
        make_visit("short", 1, duration=600, earliest=0, deadline=0),
    ]
    problem = make_problem(
        visits, [make_shift("s1")], late_policy="serve_late", lateness=Lateness(0, 100)
    )
    plan = _solve(problem)
    # short first: lateness 300 and 900; long first: 300 and 3 h + 300.
    assert lateness_of(problem, plan) == (1200, 900)


def test_priority_scale_weighs_urgent_lateness_more() -> None:
    """A second late weighs 3x for priority 1, 2x for a 2-hour visit, 1x otherwise."""
    scales = [priority_scale(make_visit("v", 1, priority=p)) for p in (1, 2, 3, 9)]
    assert scales == [3, 2, 1, 1]


def test_lateness_keeps_never_late_visit_hard(make_problem: ProblemFactory) -> None:
    """Lateness as a cost does not override a visit that must never be late (a 2-hour visit
    with ``late_limit`` at its deadline, H-006): it is dropped rather than served late."""
    visits = [
        make_visit("a", 5, duration=HOUR, earliest=0, deadline=3300, late_limit=3300),
        make_visit("b", 5, duration=HOUR, earliest=0, deadline=3300, late_limit=3300),
    ]
    problem = make_problem(
        visits, [make_shift("s1")], late_policy="serve_late", lateness=Lateness(1, 1)
    )
    plan = _solve(problem)
    assert plan.late == ()
    assert len(plan.unassigned) == 1


def test_lateness_fractional_costs_scaled(make_problem: ProblemFactory) -> None:
    """A fractional cost (0.5 per second, as a weighted benchmark score gives) is kept: the
    search's integer costs are scaled by 100, travel with them."""
    visit = make_visit("a", 5, duration=600, earliest=0, deadline=0)
    base = dict(late_policy="serve_late")
    half = make_problem([visit], [make_shift("s1")], lateness=Lateness(0.5, 0), **base)
    both = make_problem([visit], [make_shift("s1")], lateness=Lateness(0.5, 0.5), **base)
    plan_half, plan_both = _solve(half), _solve(both)
    assert plan_both.objective - plan_half.objective == 50 * 1500

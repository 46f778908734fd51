"""The independent checker catches broken links and unreported lateness (issue 15)."""

from __future__ import annotations

import dataclasses

import pytest

from routing.checker import check_plan
from routing.types import Lateness, LateVisit, Link, Route, RoutingPlan, Stop, Unassigned
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit


def _route(shift: str, *stops: tuple[str, int]) -> Route:
    return Route(
        shift, f"w-{shift}",
        tuple(Stop(v, start, start, start + 1800) for v, start in stops),
        0, 8 * HOUR, (), 0,
    )


def _plan(*routes: Route, unassigned: tuple[Unassigned, ...] = ()) -> RoutingPlan:
    return RoutingPlan(tuple(routes), unassigned, 0, 0.0, len(routes), 0, 0.0)


@pytest.mark.safety("H-100")
def test_checker_catches_half_served_alone(make_problem: ProblemFactory) -> None:
    """One half routed, the other reported unassigned: a violation."""
    problem = make_problem(
        [make_visit("a", 5), make_visit("b", 5)],
        [make_shift("s1"), make_shift("s2")],
        links=(Link("a", "b", 0, 0, "different"),),
    )
    plan = _plan(_route("s1", ("a", 1500)),
                 unassigned=(Unassigned("b", "no room", "no_capacity"),))
    assert any("served alone" in p for p in check_plan(problem, plan))


@pytest.mark.safety("H-100")
def test_checker_catches_same_worker_back_to_back(make_problem: ProblemFactory) -> None:
    """Both halves of a double-handed visit by one carer, one after the other (the failure
    the published benchmark showed): wrong workers and wrong gap."""
    problem = make_problem(
        [make_visit("a", 5), make_visit("b", 5)],
        [make_shift("s1"), make_shift("s2")],
        links=(Link("a", "b", 0, 0, "different"),),
    )
    plan = _plan(_route("s1", ("a", 1500), ("b", 3300)))
    found = check_plan(problem, plan)
    assert any("are not different" in p for p in found)
    assert any("apart" in p for p in found)


def test_checker_accepts_legal_pair(make_problem: ProblemFactory) -> None:
    """The same pair on two carers at one start passes (the checker is not over-strict)."""
    problem = make_problem(
        [make_visit("a", 5), make_visit("b", 5)],
        [make_shift("s1"), make_shift("s2")],
        links=(Link("a", "b", 0, 0, "different"),),
    )
    plan = _plan(_route("s1", ("a", 1500)), _route("s2", ("b", 1500)))
    assert check_plan(problem, plan) == []


def test_checker_catches_unlisted_lateness(make_problem: ProblemFactory) -> None:
    """A visit served late under lateness-as-cost must be in ``plan.late``."""
    problem = make_problem(
        [make_visit("a", 5, deadline=600)], [make_shift("s1")],
        late_policy="serve_late", lateness=Lateness(1, 1),
    )
    plan = _plan(_route("s1", ("a", 1500)))
    assert any("not listed as late" in p for p in check_plan(problem, plan))
    listed = dataclasses.replace(plan, late=(LateVisit("a", 600, 1500),))
    assert check_plan(problem, listed) == []

"""Property test: random linked instances (with lateness costs and travel profiles) always
give checker-legal plans: never one half of a pair alone, gaps and workers kept."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.checker import check_plan
from routing.solver import insert_urgent, solve
from routing.types import Lateness, Link, LinkWorkers, RoutingProblem, Visit
from tests.routing.test_solver_property import problems

HOUR = 3600


@st.composite
def linked_problems(draw: st.DrawFn) -> RoutingProblem:
    """A random problem with up to half its visits linked in pairs, maybe lateness costs
    and a slower travel profile for some workers."""
    problem = draw(problems())
    ids = [v.id for v in problem.visits]
    links = []
    for k in range(0, len(ids) - 1, 2):
        if not draw(st.booleans()):
            continue
        low = draw(st.sampled_from([0, 0, 900, -900]))
        high = low + draw(st.sampled_from([0, 1800, 3600]))
        workers: LinkWorkers = draw(st.sampled_from(["different", "different", "same", "any"]))
        links.append(Link(ids[k], ids[k + 1], low, high, workers))
    lateness = draw(st.one_of(st.none(), st.builds(Lateness, st.integers(0, 3),
                                                   st.integers(0, 3))))
    slow = problem.travel * 2
    shifts = tuple(
        dataclasses.replace(s, profile="slow") if draw(st.booleans()) else s
        for s in problem.shifts
    )
    return dataclasses.replace(
        problem, links=tuple(links), lateness=lateness, travel_profiles={"slow": slow},
        shifts=shifts,
    )


@pytest.mark.safety("H-100")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_problems())
def test_linked_random_problems_legal(problem: RoutingProblem) -> None:
    """Whatever the instance, the plan passes the checker (links, profiles, lateness)."""
    plan = solve(problem, seconds=2.0, workers=1, solution_limit=20)

    assert check_plan(problem, plan) == []


@pytest.mark.safety("H-101")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linked_problems(), st.integers(1, 7), st.integers(0, 10))
def test_linked_insert_urgent_pair_legal(
    problem: RoutingProblem, location: int, opens: int
) -> None:
    """Inserting a new double-handed pair into a solved linked plan keeps every rule."""
    plan = solve(problem, seconds=2.0, workers=1, solution_limit=20)
    size = problem.travel.shape[0]
    halves = [
        Visit(id=f"urgent{k}", location=location % size, duration=900,
              earliest=opens * 1800, deadline=opens * 1800 + 2 * HOUR, priority=2)
        for k in (1, 2)
    ]
    full = dataclasses.replace(
        problem,
        visits=(*problem.visits, *halves),
        links=(*problem.links, Link("urgent1", "urgent2", 0, 0, "different")),
    )

    updated = insert_urgent(plan, full, halves[0], seconds=2.0)

    assert check_plan(full, updated) == []

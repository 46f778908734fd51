"""Property test: random small problems always yield plans that satisfy every hard constraint."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.checker import check_plan
from routing.solver import insert_urgent, solve
from routing.types import Break, LatePolicy, RoutingProblem, Shift, Visit

SKILLS = ("nurse", "iv", "catheter")
HOUR = 3600


@st.composite
def problems(draw: st.DrawFn) -> RoutingProblem:
    """Random points on a grid, 1-3 shifts with random skills and breaks, up to 8 visits."""
    size = draw(st.integers(2, 8))
    points = np.array(
        draw(
            st.lists(
                st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=size, max_size=size
            )
        )
    )
    travel = (np.abs(points[:, None, :] - points[None, :, :]).sum(axis=2) * 120).astype(np.int64)
    shifts = []
    for k in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, 2)) * HOUR
        breaks = (Break(start + 2 * HOUR, start + 3 * HOUR, 1800),) if draw(st.booleans()) else ()
        shifts.append(
            Shift(
                id=f"s{k}",
                worker_id=f"w{k}",
                start_location=0,
                end_location=draw(st.integers(0, 1)),
                start=start,
                end=start + 6 * HOUR,
                breaks=breaks,
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
                capacity=draw(st.one_of(st.none(), st.integers(1, 10))),
            )
        )
    visits = []
    for k in range(draw(st.integers(0, 8))):
        earliest = draw(st.integers(0, 6)) * 1800
        visits.append(
            Visit(
                id=f"v{k}",
                location=draw(st.integers(1, size - 1)),
                duration=draw(st.integers(0, 3)) * 900,
                earliest=earliest,
                deadline=earliest + draw(st.integers(0, 8)) * 1800,
                priority=draw(st.integers(1, 4)),
                demand=draw(st.integers(0, 3)),
                skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=1))),
                excluded_workers=frozenset(
                    draw(st.sets(st.sampled_from(["w0", "w1"]), max_size=1))
                ),
                preferred_workers=frozenset(
                    draw(st.sets(st.sampled_from(["w1", "w2"]), max_size=1))
                ),
                avoided_workers=frozenset(
                    draw(st.sets(st.sampled_from(["w0", "w2"]), max_size=1))
                ),
            )
        )
    policy: LatePolicy = draw(st.sampled_from(["drop", "serve_late"]))
    return RoutingProblem(
        visits=tuple(visits), shifts=tuple(shifts), travel=travel, late_policy=policy
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_solve_random_problems_feasible(problem: RoutingProblem) -> None:
    """Whatever the instance, the plan passes the independent checker. A short wall-clock
    limit on purpose: on a loaded machine the search may find nothing in time, and the
    greedy fallback plan must pass the checker too (H-011; it once raised instead)."""
    plan = solve(problem, seconds=0.1, workers=1)

    assert check_plan(problem, plan) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(1, 7), st.integers(0, 10))
def test_insert_urgent_random_problems_feasible(
    problem: RoutingProblem, location: int, opens: int
) -> None:
    """Inserting into a solved random plan keeps every hard constraint, pins included."""
    plan = solve(problem, seconds=0.1, workers=1)
    size = problem.travel.shape[0]
    urgent = Visit(
        id="urgent",
        location=location % size,
        duration=900,
        earliest=opens * 1800,
        deadline=opens * 1800 + 2 * HOUR,
        priority=2,
    )
    pinned = tuple(
        dataclasses.replace(v, pinned_to=route.shift_id, pinned_start=stop.start)
        for route in plan.routes[:1]
        for stop in route.stops
        for v in problem.visits
        if v.id == stop.visit_id
    )
    keep = {v.id for v in pinned}
    problem = dataclasses.replace(
        problem, visits=(*pinned, *(v for v in problem.visits if v.id not in keep))
    )

    updated = insert_urgent(plan, problem, urgent, seconds=0.3)

    full = dataclasses.replace(problem, visits=(*problem.visits, urgent))
    assert check_plan(full, updated) == []

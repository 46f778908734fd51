"""Ruin and recreate for distance-only problems with windows (routing.ruin, ADR 0004 round 3).

Every run here is bounded by a number of steps; the time given is only a ceiling that a
loaded machine does not reach on these small instances.
"""

from __future__ import annotations

import dataclasses
import random

import pytest
from ortools.constraint_solver import pywrapcp
from ortools.util.optional_boolean_pb2 import BOOL_FALSE

import routing.ruin as ruin_module
from routing.checker import check_plan
from routing.model import build_model, read_plan
from routing.ruin import RuinStats, ruin, ruin_and_recreate
from routing.screening import screen
from routing.search import (
    FSS,
    SLOW_OPERATORS,
    VRPTW_GLS_LAMBDA,
    VRPTW_RUIN,
    WORKER_STRATEGIES,
    SearchJob,
    _stop_when_stalled,
    search_parameters,
    worker_settings,
)
from routing.solomon import SolomonCustomer, SolomonInstance, to_problem
from routing.types import RoutingPlan, RoutingProblem
from tests.routing.conftest import (
    CEILING,
    ProblemFactory,
    line_travel,
    make_shift,
    make_visit,
)

#: A generous bound: the step limits end these runs long before it on any machine.
BOUND = 20 * CEILING


def _ring(customers: int = 24) -> SolomonInstance:
    rows = tuple(
        SolomonCustomer(k, 50 + (k * 7) % 41 - 20, 50 + (k * 13) % 37 - 18, 5, 0, 400, 5)
        for k in range(1, customers + 1)
    )
    return SolomonInstance("RING", 6, 30, SolomonCustomer(0, 50, 50, 0, 0, 500, 0), rows)


def _descent_params() -> pywrapcp.RoutingSearchParameters:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, BOUND, None, greedy=True)
    for name in SLOW_OPERATORS:
        setattr(params.local_search_operators, name, BOOL_FALSE)
    return params


def _first_plan(problem: RoutingProblem) -> RoutingPlan:
    """The first-solution heuristic's plan, not improved: a legal but poor start."""
    plan = SearchJob(problem=problem, screening=screen(problem), seconds=BOUND,
                     solution_limit=1, greedy=True).run()
    assert plan is not None and not plan.unassigned
    return plan


def test_a_string_ruin_removes_nearby_strings_and_keeps_the_rest_in_order() -> None:
    routes = [[10, 11, 12, 13, 14], [20, 21, 22, 23], [30, 31, 32], []]
    near = {n: sorted((m for r in routes for m in r if m != n), key=lambda m: abs(m - n))
            for r in routes for n in r}
    kept_order = {n: k for r in routes for k, n in enumerate(r)}

    for seed in range(50):
        ruined = ruin(routes, near, random.Random(seed))

        removed = {n for r in routes for n in r} - {n for r in ruined for n in r}
        assert removed, seed
        assert len(ruined) == len(routes)
        for before, after in zip(routes, ruined, strict=True):
            assert set(after) <= set(before)
            assert [kept_order[n] for n in after] == sorted(kept_order[n] for n in after)


def test_a_route_ruin_removes_one_whole_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ruin_module, "ROUTE_RUIN_CHANCE", 1.0)
    routes = [[10, 11, 12, 13], [20, 21], [30, 31, 32]]
    near = {n: [m for r in routes for m in r if m != n] for r in routes for n in r}

    ruined = ruin(routes, near, random.Random(3))

    emptied = [k for k, r in enumerate(ruined) if routes[k] and not r]
    assert len(emptied) == 1
    assert all(ruined[k] == routes[k] for k in range(len(routes)) if k not in emptied)


@pytest.mark.parametrize("local", [True, False], ids=["local steps", "whole-model steps"])
def test_ruin_and_recreate_improves_a_poor_start_and_stays_legal(
    local: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ruin_module, "LOCAL_STEPS", local)
    problem = to_problem(_ring())
    screening = screen(problem)
    start = _first_plan(problem)
    stats = RuinStats()

    better = ruin_and_recreate(problem, screening, start, BOUND, _descent_params(),
                               stats=stats, steps=30)

    assert stats.steps == 30 and stats.failed == 0
    assert better.objective < start.objective
    assert check_plan(problem, better) == [] and not better.unassigned


def test_local_steps_add_up_to_the_cost_the_whole_model_gives_their_plan() -> None:
    """Each local step prices only the routes it searched; the sum over the phase must be the
    cost the whole model gives the plan returned (a wrong sum would keep worse plans)."""
    problem = to_problem(_ring(30))
    screening = screen(problem)
    start = _first_plan(problem)
    stats = RuinStats()

    better = ruin_and_recreate(problem, screening, start, BOUND, _descent_params(),
                               stats=stats, steps=40)

    assert stats.improved > 0
    assert better.objective == stats.best_cost < start.objective
    assert check_plan(problem, better) == [] and not better.unassigned


def test_local_steps_count_what_the_model_charges_beyond_distance(
    make_problem: ProblemFactory,
) -> None:
    """A distance problem whose visits prefer a worker (a continuity cost on top of the arcs):
    a step's cost change is the sub-model's whole cost, so the sum is still the whole model's
    cost of the plan returned, and a plan that moves a visit off its preferred worker pays."""
    shifts = [make_shift(f"s{k}") for k in range(3)]
    visits = [
        make_visit(f"v{k}", 1 + k % 10, duration=600, earliest=(k % 4) * 3600,
                   deadline=(k % 4) * 3600 + 4 * 3600,
                   preferred_workers=frozenset({f"w-s{k % 3}"}) if k % 2 else frozenset())
        for k in range(18)
    ]
    distance = line_travel(range(11)) // 10
    problem = make_problem(visits, shifts, objective="distance", distance=distance, seed=3)
    screening = screen(problem)
    start = _first_plan(problem)
    stats = RuinStats()

    better = ruin_and_recreate(problem, screening, start, BOUND, _descent_params(),
                               stats=stats, steps=40)

    assert stats.steps == 40 and stats.failed == 0
    assert better.objective == min(stats.best_cost or start.objective, start.objective)
    assert check_plan(problem, better) == [] and not better.unassigned


def test_a_local_step_searches_the_ruined_routes_their_nearest_and_one_empty_shift(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ruin_module, "LOCAL_ROUTES", 3)
    routes = [["a1", "a2"], ["b1", "b2"], ["c1"], [], ["d1", "d2"], []]
    ruined = [["a1"], ["b1", "b2"], ["c1"], [], ["d1", "d2"], []]
    near = {
        "a2": ["a1", "d1", "c1", "b1"], "a1": ["a2", "b1"], "b1": ["a1"], "b2": ["b1"],
        "c1": ["d1"], "d1": ["d2"], "d2": ["d1"],
    }

    chosen = ruin_module._local_vehicles(routes, ruined, near)

    # the ruined route, then the routes of a2's nearest visits in order (its own route is
    # already in; d before c), then the first empty shift
    assert chosen == [0, 4, 2, 3]


def test_ruin_and_recreate_never_returns_a_worse_plan() -> None:
    """From a plan no step can improve (the best of a long run), the start comes back."""
    problem = to_problem(_ring(12))
    screening = screen(problem)
    start = ruin_and_recreate(problem, screening, _first_plan(problem), BOUND,
                              _descent_params(), steps=60)

    again = ruin_and_recreate(problem, screening, start, BOUND, _descent_params(), steps=10)

    assert again.objective <= start.objective
    assert check_plan(problem, again) == [] and not again.unassigned


def test_a_search_with_a_solution_limit_runs_no_ruin_and_recreate() -> None:
    """Reproducible runs (``solution_limit``) stay a pure function of the problem: the ruin
    share is ignored, so the plan is the one of the same job without it."""
    problem = to_problem(_ring(16))
    job = SearchJob(problem=problem, screening=screen(problem), seconds=BOUND,
                    solution_limit=20, gls_lambda=VRPTW_GLS_LAMBDA)

    plain = job.run()
    with_share = dataclasses.replace(job, ruin=0.5).run()

    assert plain is not None and with_share is not None
    assert with_share.routes == plain.routes


def test_distance_vrptw_workers_get_ruin_and_recreate_and_service_days_do_not(
    make_problem: ProblemFactory,
) -> None:
    solomon = to_problem(_ring())
    day = make_problem([make_visit("v", 1)], [make_shift()])

    assert all(share == VRPTW_RUIN > 0 for *_, share in worker_settings(solomon, 2))
    assert worker_settings(day, 2) == [
        (start, None, 0.0, 0.0) for start in WORKER_STRATEGIES[:2]
    ]


def test_a_stalled_guided_search_is_finished_early() -> None:
    """The stall test: with no grace at all, guided search ends at its first solution that is
    no better than the best, long before its solution limit; the plan is still complete."""
    problem = to_problem(_ring(16))
    screening = screen(problem)
    counts = []
    for stall in (None, 0.0):
        model = build_model(problem, screening, {})
        params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, BOUND, 200,
                                   distance_vrptw=True)
        seen = [0]

        def count(seen: list[int] = seen) -> None:
            seen[0] += 1

        model.routing.AddAtSolutionCallback(count)
        if stall is not None:
            _stop_when_stalled(model.routing, stall)
        solution = model.routing.SolveWithParameters(params)
        assert solution is not None
        plan = read_plan(model, solution, 0.0)
        assert check_plan(problem, plan) == [] and not plan.unassigned
        counts.append(seen[0])

    assert counts[0] == 200
    assert counts[1] < counts[0]

"""The search settings chosen in ADR 0004 (docs/adr/0004-search-tuning.md).

Distance-only problems with windows (Solomon-style) search without the slow
path-reinsertion operators and with lambda 0.5; every other problem (the service's own days)
keeps the settings it had, because the tuned ones served far fewer visits on an
over-subscribed day; the urgent-insertion descents keep their own narrow operator set.
"""

from __future__ import annotations

import dataclasses

from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from routing.checker import check_plan
from routing.screening import screen
from routing.search import (
    FSS,
    GLS_LAMBDA,
    SLOW_OPERATORS,
    VRPTW_GLS_LAMBDA,
    VRPTW_POLISH,
    VRPTW_PORTFOLIO,
    VRPTW_RUIN,
    WORKER_STRATEGIES,
    SearchJob,
    is_distance_vrptw,
    search_parameters,
    worker_settings,
)
from routing.solomon import SolomonCustomer, SolomonInstance, parse_solomon, to_problem
from routing.solver import solve
from routing.types import PRIORITY_URGENT_2H, Break
from tests.routing.conftest import (
    CEILING,
    HOUR,
    SOLUTIONS,
    ProblemFactory,
    make_shift,
    make_visit,
    solve_checked,
)

TINY = """TINY
VEHICLE
NUMBER CAPACITY
2 10
CUSTOMER
CUST NO. XCOORD. YCOORD. DEMAND READY TIME DUE DATE SERVICE TIME
0 0 0 0 0 100 0
1 3 4 1 0 50 2
2 6 8 1 0 60 2
"""


def test_distance_vrptw_searches_without_the_slow_operators_at_lambda_half() -> None:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, 1.0, None, distance_vrptw=True)

    operators = params.local_search_operators
    assert all(getattr(operators, name) == BOOL_FALSE for name in SLOW_OPERATORS)
    assert operators.use_relocate_path_global_cheapest_insertion_insert_unperformed == BOOL_TRUE
    assert params.guided_local_search_lambda_coefficient == VRPTW_GLS_LAMBDA == 0.5


def test_the_services_problems_keep_the_default_search() -> None:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, 1.0, None)

    operators = params.local_search_operators
    assert all(getattr(operators, name) == BOOL_TRUE for name in SLOW_OPERATORS)
    assert params.guided_local_search_lambda_coefficient == GLS_LAMBDA == 0.1


def test_which_problems_count_as_distance_vrptw(make_problem: ProblemFactory) -> None:
    solomon = to_problem(parse_solomon(TINY))
    day = make_problem([make_visit("v", 1)], [make_shift()])
    with_break = make_problem(
        [make_visit("v", 1)], [make_shift(breaks=(Break(HOUR, 2 * HOUR, 1800),))]
    )

    assert is_distance_vrptw(solomon)
    assert not is_distance_vrptw(day)  # travel time, the service's objective
    assert not is_distance_vrptw(
        dataclasses.replace(with_break, objective="distance", distance=with_break.travel)
    )


def test_insertion_descents_keep_their_own_operators() -> None:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, 1.0, None, greedy=True,
                               insert_only=True)

    operators = params.local_search_operators
    assert operators.use_make_active == BOOL_TRUE
    assert operators.use_two_opt == BOOL_FALSE


def test_an_over_full_day_still_serves_the_urgent_visit(make_problem: ProblemFactory) -> None:
    """More work than the shift holds: the search must still drop the right visits and
    bring the urgent one in (the move that inserts a dropped visit is kept)."""
    visits = [make_visit(f"p{k}", k % 10 + 1, duration=HOUR, priority=4) for k in range(10)]
    visits.append(make_visit("urgent", 9, duration=HOUR, priority=PRIORITY_URGENT_2H,
                             deadline=3 * HOUR))
    problem = make_problem(visits, [make_shift(end=6 * HOUR)])

    plan = solve_checked(problem)

    assert check_plan(problem, plan) == []
    assert plan.route_of("urgent") is not None


def _ring(customers: int = 12) -> SolomonInstance:
    """A small Solomon-style instance: customers on a ring around the depot, loose windows."""
    rows = tuple(
        SolomonCustomer(k, 50 + (k * 7) % 41 - 20, 50 + (k * 13) % 37 - 18, 5, 0, 400, 5)
        for k in range(1, customers + 1)
    )
    return SolomonInstance("RING", 4, 30, SolomonCustomer(0, 50, 50, 0, 0, 500, 0), rows)


def test_parallel_workers_on_distance_vrptw_take_the_portfolio_and_polish() -> None:
    problem = to_problem(_ring())

    settings = worker_settings(problem, 2)

    assert [(start, gls) for start, gls, _, _ in settings] == list(VRPTW_PORTFOLIO[:2])
    assert settings[0][:2] == (FSS.PARALLEL_CHEAPEST_INSERTION, VRPTW_GLS_LAMBDA)
    assert len({start for start, *_ in settings}) == 2
    assert worker_settings(problem, 1) == [(*VRPTW_PORTFOLIO[0], VRPTW_POLISH, VRPTW_RUIN)]
    assert all(polish == VRPTW_POLISH > 0 for _, _, polish, _ in settings)


def test_the_services_workers_keep_their_starts_and_lambda(make_problem: ProblemFactory) -> None:
    day = make_problem([make_visit("v", 1)], [make_shift()])

    assert worker_settings(day, 2) == [
        (start, None, 0.0, 0.0) for start in WORKER_STRATEGIES[:2]
    ]


def test_a_lambda_given_overrides_the_default() -> None:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, 1.0, None, distance_vrptw=True,
                               gls_lambda=1.0)

    assert params.guided_local_search_lambda_coefficient == 1.0


def test_a_two_worker_portfolio_solve_is_legal_and_complete() -> None:
    problem = to_problem(_ring())

    plan = solve(problem, seconds=CEILING, workers=2, solution_limit=SOLUTIONS)

    assert check_plan(problem, plan) == []
    assert not plan.unassigned


def test_the_closing_descent_never_returns_a_worse_plan() -> None:
    """``polish``: guided local search for most of the budget, then a greedy descent from its
    best plan; the better of the two is returned (both stopped by solution limits: after five
    solutions the guided search has not yet found what the descent finds from its plan)."""
    problem = to_problem(_ring(16))
    screening = screen(problem)
    job = SearchJob(problem=problem, screening=screening, seconds=CEILING,
                    solution_limit=5, gls_lambda=VRPTW_GLS_LAMBDA)

    plain = job.run()
    polished = dataclasses.replace(job, polish=0.5).run()

    assert plain is not None and polished is not None
    assert check_plan(problem, polished) == [] and not polished.unassigned
    assert polished.objective < plain.objective


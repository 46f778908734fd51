"""The search settings chosen in ADR 0004 (docs/adr/0004-search-tuning.md).

Guided local search runs without the slow path-reinsertion operators and with lambda 0.5;
the urgent-insertion descents keep their own narrow operator set; a dropped visit can still
be brought back in by the search (the operator for that stays on).
"""

from __future__ import annotations

from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from routing.checker import check_plan
from routing.search import FSS, GLS_LAMBDA, SLOW_OPERATORS, search_parameters
from routing.types import PRIORITY_URGENT_2H
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit, solve_checked


def test_guided_search_drops_the_slow_operators_and_uses_the_tuned_lambda() -> None:
    params = search_parameters(FSS.PARALLEL_CHEAPEST_INSERTION, 1.0, None)

    operators = params.local_search_operators
    assert all(getattr(operators, name) == BOOL_FALSE for name in SLOW_OPERATORS)
    assert operators.use_relocate_path_global_cheapest_insertion_insert_unperformed == BOOL_TRUE
    assert params.guided_local_search_lambda_coefficient == GLS_LAMBDA == 0.5


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

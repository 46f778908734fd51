"""A worker who let an offer lapse unanswered is asked again only when no one else does as well.

Every path that places a visit weighs it the same way: the full search, the fast insertion
used for new urgent visits, and the repair pass.
"""

from __future__ import annotations

import dataclasses

from routing.costs import AVOID_COST
from routing.insertion import cheapest_insertion
from routing.screening import screen
from routing.solver import insert_urgent
from routing.types import PRIORITY_URGENT_2H, RoutingPlan
from tests.routing.conftest import (
    HOUR,
    ProblemFactory,
    make_shift,
    make_visit,
    shift_of,
    solve_checked,
)


def test_someone_else_is_asked_first(make_problem: ProblemFactory) -> None:
    """The silent worker is nearer, but another who can come on time gets the visit."""
    near = make_shift("near")
    far = make_shift("far", start_location=4, end_location=4)  # 15 minutes further away
    visit = make_visit("v1", 1, avoided_workers=frozenset({near.worker_id}))

    plan = solve_checked(make_problem([visit], [near, far]))

    assert shift_of(plan, "v1") == "far"


def test_the_silent_worker_is_asked_again_rather_than_keep_a_patient_waiting(
    make_problem: ProblemFactory,
) -> None:
    """For an urgent visit, the only other worker starts two hours later: waiting that long
    costs more than asking the silent worker again."""
    silent = make_shift("silent")
    later = make_shift("later", start=2 * HOUR, end=10 * HOUR)
    visit = make_visit(
        "v1", 1, priority=PRIORITY_URGENT_2H, deadline=3 * HOUR,
        avoided_workers=frozenset({silent.worker_id}),
    )

    plan = solve_checked(make_problem([visit], [silent, later]))

    assert shift_of(plan, "v1") == "silent"


def test_a_silent_worker_is_never_a_reason_to_drop(make_problem: ProblemFactory) -> None:
    """When the silent worker is the only one on shift, the visit is still served by them."""
    only = make_shift("only")
    visit = make_visit("v1", 3, avoided_workers=frozenset({only.worker_id}))

    plan = solve_checked(make_problem([visit], [only]))

    assert shift_of(plan, "v1") == "only" and plan.unassigned == ()


def test_fast_insertion_weighs_the_silent_worker_the_same_way(
    make_problem: ProblemFactory,
) -> None:
    """The millisecond insertion path charges the same cost as the full model."""
    near = make_shift("near")
    far = make_shift("far", start_location=4, end_location=4)
    visit = make_visit("v1", 1, avoided_workers=frozenset({near.worker_id}))
    problem = make_problem([visit], [near, far])
    empty = RoutingPlan((), (), 0, 0.0, 0, 0, 0.0)

    placed = cheapest_insertion(problem, screen(problem), empty, visit)
    assert placed is not None and shift_of(placed, "v1") == "far"

    alone = dataclasses.replace(problem, shifts=(near,))
    again = insert_urgent(empty, alone, visit)
    assert shift_of(again, "v1") == "near"


def test_avoid_cost_sits_between_continuity_and_lateness() -> None:
    """A silent worker weighs more than a lost continuity of carer (someone else first) and
    less than ten minutes late (asked again rather than the visit going late)."""
    from routing.costs import CONTINUITY_COST, LATE_COST_PER_SECOND

    assert CONTINUITY_COST < AVOID_COST < LATE_COST_PER_SECOND * 600


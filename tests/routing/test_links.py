"""Linked and double-handed visits (issue 15 item 1): both halves or neither, the gap, the
workers; the same rules in the fast insertion, the repair pass and the checker."""

from __future__ import annotations

import dataclasses

import pytest

from routing.checker import check_plan
from routing.insertion import cheapest_insertion
from routing.screening import screen
from routing.solver import insert_urgent, solve
from routing.types import Link, RoutingPlan, RoutingProblem
from tests.routing.conftest import HOUR, ProblemFactory, make_shift, make_visit

#: Accepted solutions after which a search stops (the plan is then a function of the problem),
#: and a ceiling for tiny problems that run out of moves first (the plan is then settled).
SOLUTIONS = 30
CEILING = 2.0


def _solve(problem: RoutingProblem) -> RoutingPlan:
    """A reproducible solve (stops on a solution count); the plan must pass the checker."""
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    return plan


def _start(plan: RoutingPlan, visit_id: str) -> int:
    route = plan.route_of(visit_id)
    assert route is not None, visit_id
    return next(s.start for s in route.stops if s.visit_id == visit_id)


def _double(first: str = "a", second: str = "b") -> Link:
    return Link(first, second, 0, 0, "different")


@pytest.mark.safety("H-100")
def test_double_handed_visit_two_workers_at_once(make_problem: ProblemFactory) -> None:
    """A hoist transfer needs two carers at the same moment: two workers, one start."""
    problem = make_problem(
        [make_visit("a", 5), make_visit("b", 5), make_visit("c", 2)],
        [make_shift("s1"), make_shift("s2")],
        links=(_double(),),
    )
    plan = _solve(problem)
    assert plan.unassigned == ()
    route_a, route_b = plan.route_of("a"), plan.route_of("b")
    assert route_a is not None and route_b is not None
    assert route_a.worker_id != route_b.worker_id
    assert _start(plan, "a") == _start(plan, "b")


@pytest.mark.safety("H-100")
def test_double_handed_visit_one_worker_both_unassigned(make_problem: ProblemFactory) -> None:
    """With one carer on shift a double-handed visit is not served by one carer alone:
    both halves are reported, with the reason."""
    problem = make_problem(
        [make_visit("a", 5), make_visit("b", 5), make_visit("c", 2)],
        [make_shift("s1")],
        links=(_double(),),
    )
    plan = _solve(problem)
    assert plan.route_of("c") is not None
    reasons = {u.visit_id: u.reason for u in plan.unassigned}
    assert set(reasons) == {"a", "b"}
    assert "different workers" in reasons["a"]


@pytest.mark.safety("H-100")
def test_link_unskilled_half_reports_both(make_problem: ProblemFactory) -> None:
    """One half needs a skill no one on shift has: the other half is not served alone."""
    problem = make_problem(
        [make_visit("a", 5, skills=frozenset({"nurse"})),
         make_visit("b", 5, skills=frozenset({"physio"}))],
        [make_shift("s1"), make_shift("s2")],
        links=(_double(),),
    )
    plan = _solve(problem)
    reasons = {u.visit_id: u for u in plan.unassigned}
    assert set(reasons) == {"a", "b"}
    assert "linked to visit b" in reasons["a"].reason
    assert reasons["a"].code == "no_skill"


def test_link_gap_and_same_worker(make_problem: ProblemFactory) -> None:
    """Insulin, then personal care 30-60 minutes later by the same carer."""
    problem = make_problem(
        [make_visit("insulin", 3, duration=600), make_visit("care", 3, duration=1800),
         make_visit("other", 6)],
        [make_shift("s1"), make_shift("s2")],
        links=(Link("insulin", "care", 1800, 3600, "same"),),
    )
    plan = _solve(problem)
    assert plan.unassigned == ()
    assert 1800 <= _start(plan, "care") - _start(plan, "insulin") <= 3600
    assert plan.route_of("insulin") == plan.route_of("care")


def test_link_exclusion_still_holds(make_problem: ProblemFactory) -> None:
    """A worker who declined one half never gets it, even when the pair needs two."""
    problem = make_problem(
        [make_visit("a", 5, excluded_workers=frozenset({"w-s1"})), make_visit("b", 5)],
        [make_shift("s1"), make_shift("s2"), make_shift("s3")],
        links=(_double(),),
    )
    plan = _solve(problem)
    route = plan.route_of("a")
    assert route is not None and route.worker_id != "w-s1"
    assert plan.route_of("b") is not None


def test_link_pinned_half_keeps_its_start(make_problem: ProblemFactory) -> None:
    """One carer has accepted half of the pair at 10:00 (pinned): the second carer joins then."""
    problem = make_problem(
        [make_visit("a", 5, pinned_to="s1", pinned_start=2 * HOUR), make_visit("b", 5)],
        [make_shift("s1"), make_shift("s2")],
        links=(_double(),),
    )
    plan = _solve(problem)
    assert _start(plan, "a") == _start(plan, "b") == 2 * HOUR
    assert plan.route_of("a").shift_id == "s1"  # type: ignore[union-attr]
    assert plan.route_of("b").shift_id == "s2"  # type: ignore[union-attr]


def test_link_windows_cannot_keep_gap_both_unassigned(make_problem: ProblemFactory) -> None:
    """Windows that cannot keep the gap: both halves reported unreachable, none served."""
    problem = make_problem(
        [make_visit("a", 5, earliest=0, deadline=HOUR),
         make_visit("b", 5, earliest=5 * HOUR, deadline=6 * HOUR)],
        [make_shift("s1"), make_shift("s2")],
        links=(Link("a", "b", 0, 1800, "any"),),
    )
    plan = _solve(problem)
    assert {u.visit_id: u.code for u in plan.unassigned} == {"a": "unreachable",
                                                             "b": "unreachable"}


@pytest.mark.safety("H-101")
def test_fast_insertion_places_pair_together(make_problem: ProblemFactory) -> None:
    """Urgent insertion of a double-handed visit puts both halves in, at one start, on two
    workers, moving no one else out of the plan."""
    base = make_problem(
        [make_visit("c", 2), make_visit("d", 8)],
        [make_shift("s1"), make_shift("s2")],
    )
    plan = _solve(base)
    problem = dataclasses.replace(
        base,
        visits=(*base.visits, make_visit("a", 5), make_visit("b", 5)),
        links=(_double(),),
    )
    placed = insert_urgent(plan, problem, problem.visit("a"), seconds=CEILING)
    assert check_plan(problem, placed) == []
    assert _start(placed, "a") == _start(placed, "b")
    assert placed.route_of("a").worker_id != placed.route_of("b").worker_id  # type: ignore[union-attr]


@pytest.mark.safety("H-101")
def test_fast_insertion_delay_moves_partner(make_problem: ProblemFactory) -> None:
    """Inserting a visit before one half of a pair delays it: the partner moves with it
    (or the insertion is refused), so the pair never splits in time."""
    base = make_problem(
        [make_visit("a", 5, earliest=HOUR), make_visit("b", 5, earliest=HOUR)],
        [make_shift("s1"), make_shift("s2", start_location=0)],
        links=(_double(),),
    )
    plan = _solve(base)
    problem = dataclasses.replace(
        base, visits=(*base.visits, make_visit("x", 4, earliest=0, deadline=HOUR + 600,
                                               duration=3600))
    )
    screening = screen(problem)
    placed = cheapest_insertion(problem, screening, plan, problem.visit("x"))
    assert placed is not None
    assert check_plan(problem, placed) == []
    assert _start(placed, "a") == _start(placed, "b")


def test_link_validation_rejects_bad_links(make_problem: ProblemFactory) -> None:
    """Unknown visits, a visit in two links and min above max are refused on construction."""
    visits = [make_visit("a", 1), make_visit("b", 2), make_visit("c", 3)]
    with pytest.raises(ValueError, match="unknown visit"):
        make_problem(visits, [make_shift()], links=(Link("a", "z"),))
    with pytest.raises(ValueError, match="two links"):
        make_problem(visits, [make_shift()], links=(Link("a", "b"), Link("b", "c")))
    with pytest.raises(ValueError, match="min_gap"):
        Link("a", "b", 10, 0)

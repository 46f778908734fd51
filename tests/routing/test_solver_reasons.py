"""Unassigned reasons, priorities, late policy and soft preferences of the scheduler."""

from __future__ import annotations

from routing.checker import check_plan
from routing.solver import solve
from routing.types import PRIORITY_24H, PRIORITY_URGENT_2H, RoutingPlan, RoutingProblem
from tests.routing.conftest import CEILING, HOUR, SOLUTIONS, ProblemFactory, make_shift, make_visit


def _solve(problem: RoutingProblem) -> RoutingPlan:
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []
    return plan


def _codes(plan: RoutingPlan) -> dict[str, str]:
    return {u.visit_id: u.code for u in plan.unassigned}


def test_unassigned_no_skill(make_problem: ProblemFactory) -> None:
    """A visit needing a skill no one on shift holds is reported as no_skill."""
    visits = [make_visit("v1", 1, skills=frozenset({"palliative"}))]

    plan = _solve(make_problem(visits, [make_shift()]))

    assert _codes(plan) == {"v1": "no_skill"}
    assert "palliative" in plan.unassigned[0].reason


def test_unassigned_unreachable(make_problem: ProblemFactory) -> None:
    """A deadline shorter than the drive from any base is reported as unreachable."""
    visits = [make_visit("v1", 10, deadline=600)]

    plan = _solve(make_problem(visits, [make_shift()]))

    assert _codes(plan) == {"v1": "unreachable"}


def test_unassigned_excluded_after_decline(make_problem: ProblemFactory) -> None:
    """When the only skilled worker declined, the visit is reported as excluded."""
    shift = make_shift()
    visits = [make_visit("v1", 1, excluded_workers=frozenset({shift.worker_id}))]

    plan = _solve(make_problem(visits, [shift]))

    assert _codes(plan) == {"v1": "excluded"}


def test_unassigned_no_capacity(make_problem: ProblemFactory) -> None:
    """Two visits in the same one-hour slot with one worker: one is left for lack of capacity."""
    visits = [
        make_visit(f"v{k}", 1, earliest=HOUR, deadline=HOUR + 60, duration=HOUR) for k in range(2)
    ]

    plan = _solve(make_problem(visits, [make_shift()]))

    assert list(_codes(plan).values()) == ["no_capacity"]


def test_priority_urgent_never_dropped_for_less_urgent(make_problem: ProblemFactory) -> None:
    """With room for one visit, the 2-hour visit is served though the 24-hour one is closer."""
    visits = [
        make_visit(
            "urgent",
            6,
            earliest=HOUR,
            deadline=HOUR + 60,
            duration=HOUR,
            priority=PRIORITY_URGENT_2H,
        ),
        make_visit(
            "routine", 1, earliest=HOUR, deadline=HOUR + 60, duration=HOUR, priority=PRIORITY_24H
        ),
    ]

    plan = _solve(make_problem(visits, [make_shift()]))

    assert _codes(plan) == {"routine": "no_capacity"}


def test_late_policy_serve_late_reports_late(make_problem: ProblemFactory) -> None:
    """Under serve_late an unreachable deadline is served as early as possible and reported."""
    visits = [make_visit("v1", 10, deadline=600)]

    plan = _solve(make_problem(visits, [make_shift()], late_policy="serve_late"))

    stop = plan.routes[0].stops[0]
    assert [x.visit_id for x in plan.late] == ["v1"]
    assert stop.start == 10 * 300  # straight from base, no waiting


def test_continuity_prefers_known_carer(make_problem: ProblemFactory) -> None:
    """Between two equally placed workers, the visit goes to the one who saw the patient."""
    shifts = [make_shift("a"), make_shift("b")]
    visits = [make_visit("v1", 3, preferred_workers=frozenset({shifts[1].worker_id}))]

    plan = _solve(make_problem(visits, shifts))

    route = plan.route_of("v1")
    assert route is not None and route.shift_id == "b"


def test_balance_spreads_work(make_problem: ProblemFactory) -> None:
    """Four long visits at one place are shared by two workers rather than given to one."""
    shifts = [make_shift("a"), make_shift("b")]
    visits = [make_visit(f"v{k}", 2, duration=HOUR) for k in range(4)]

    plan = _solve(make_problem(visits, shifts))

    assert sorted(len(r.stops) for r in plan.routes) == [2, 2]


def test_solve_deterministic_with_solution_limit(make_problem: ProblemFactory) -> None:
    """Two runs with the same seed and a solution limit give identical plans."""
    visits = [make_visit(f"v{k}", k % 10 + 1, earliest=(k % 4) * HOUR) for k in range(12)]
    problem = make_problem(visits, [make_shift("a"), make_shift("b")], seed=7)

    first = solve(problem, seconds=CEILING, workers=2, solution_limit=50)
    second = solve(problem, seconds=CEILING, workers=2, solution_limit=50)

    assert first.routes == second.routes and first.objective == second.objective


def test_solve_no_shifts_reports_everything(make_problem: ProblemFactory) -> None:
    """With nobody on shift every visit comes back unassigned, none is lost."""
    plan = _solve(make_problem([make_visit("v1", 1)], []))

    assert _codes(plan) == {"v1": "no_skill"} and plan.routes == ()


def test_continuity_with_capacity_still_solves(make_problem: ProblemFactory) -> None:
    """Regression (found by the property test): a preference for an absent worker next to a
    capacity limit must not make the model report no solution."""
    visits = [
        make_visit("v0", 1, demand=2),
        make_visit("v1", 1, demand=2, preferred_workers=frozenset({"nobody"})),
    ]
    shifts = [
        make_shift("a", capacity=1, skills=frozenset()),
        make_shift("b", capacity=2, skills=frozenset()),
    ]

    plan = _solve(make_problem(visits, shifts))

    assert list(_codes(plan).values()) == ["no_capacity"]

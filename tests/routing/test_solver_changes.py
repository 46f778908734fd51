"""Changes through the day: urgent insertion, re-optimisation and declines."""

from __future__ import annotations

import dataclasses

import pytest

from routing.checker import check_plan
from routing.solver import decline, improve, insert_urgent, solve
from routing.types import PRIORITY_URGENT_2H, RoutingProblem
from tests.routing.conftest import CEILING, HOUR, SOLUTIONS, ProblemFactory, make_shift, make_visit


def _day(make_problem: ProblemFactory) -> RoutingProblem:
    visits = [make_visit(f"v{k}", k % 10 + 1, earliest=(k % 3) * HOUR) for k in range(8)]
    visits[0] = dataclasses.replace(visits[0], pinned_to="a", pinned_start=2 * HOUR)
    return make_problem(visits, [make_shift("a"), make_shift("b")])


def test_insert_urgent_places_visit_without_moving_pins(make_problem: ProblemFactory) -> None:
    """The urgent visit is served on time and the pinned visit keeps shift and start."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    urgent = make_visit("urgent", 4, earliest=HOUR, deadline=3 * HOUR, priority=PRIORITY_URGENT_2H)

    updated = insert_urgent(plan, problem, urgent, seconds=CEILING)

    full = dataclasses.replace(problem, visits=(*problem.visits, urgent))
    assert check_plan(full, updated) == []
    assert updated.route_of("urgent") is not None


def test_insert_urgent_keeps_other_shifts(make_problem: ProblemFactory) -> None:
    """When the visit fits, every previously routed visit stays on its shift."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    before = {s.visit_id: r.shift_id for r in plan.routes for s in r.stops}

    updated = insert_urgent(plan, problem, make_visit("urgent", 2), seconds=CEILING)

    after = {s.visit_id: r.shift_id for r in updated.routes for s in r.stops}
    assert all(after[v] == shift for v, shift in before.items())


def test_insert_urgent_declined_worker_excluded(make_problem: ProblemFactory) -> None:
    """A visit declined by one worker is inserted on the other worker's shift."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    declined = make_visit("urgent", 3, excluded_workers=frozenset({"w-a"}))

    updated = insert_urgent(plan, problem, declined, seconds=CEILING)

    route = updated.route_of("urgent")
    assert route is not None and route.worker_id == "w-b"


def test_insert_urgent_reports_unservable(make_problem: ProblemFactory) -> None:
    """An urgent visit needing a missing skill comes back unassigned with its reason."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    updated = insert_urgent(plan, problem, make_visit("x", 3, skills=frozenset({"iv"})))

    assert [(u.visit_id, u.code) for u in updated.unassigned] == [("x", "no_skill")]


def test_improve_never_worse_and_feasible(make_problem: ProblemFactory) -> None:
    """Re-optimising from a plan keeps it feasible and does not raise its objective."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    better = improve(plan, problem, CEILING, workers=2, solution_limit=SOLUTIONS)

    assert check_plan(problem, better) == []
    assert better.objective <= plan.objective


def test_decline_excludes_worker_and_unpins(make_problem: ProblemFactory) -> None:
    """After the pinned worker declines, the visit is re-planned on the other shift."""
    problem = _day(make_problem)

    declined = decline(problem, "v0", "w-a")
    plan = solve(declined, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    assert check_plan(declined, plan) == []
    route = plan.route_of("v0")
    assert route is not None and route.worker_id == "w-b"


def test_insert_urgent_displaces_less_urgent_when_full(make_problem: ProblemFactory) -> None:
    """With no free slot, the search phase swaps the 24-hour visit out for the 2-hour one."""
    slot = dict(earliest=HOUR, deadline=HOUR + 60, duration=HOUR)
    problem = make_problem([make_visit("routine", 1, **slot)], [make_shift()])
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    urgent = make_visit("urgent", 1, priority=PRIORITY_URGENT_2H, **slot)

    updated = insert_urgent(plan, problem, urgent, seconds=CEILING)

    full = dataclasses.replace(problem, visits=(*problem.visits, urgent))
    assert check_plan(full, updated) == []
    assert updated.route_of("urgent") is not None
    assert [(u.visit_id, u.code) for u in updated.unassigned] == [("routine", "no_capacity")]


def test_an_overcommitted_worker_does_not_stop_the_network_being_planned(
    make_problem: ProblemFactory,
) -> None:
    """One worker accepted more than their shift now holds (an earlier visit overran): the
    plan leaves one accepted visit out, reported, and still places the new urgent visit with
    the other worker. Before, mandatory pins made the whole network infeasible."""
    busy, free = make_shift("busy", end=5 * HOUR // 2), make_shift("free")
    accepted = [  # three hours of accepted visits in a shift with two and a half left
        make_visit(f"a{k}", 1, duration=HOUR, pinned_to="busy", deadline=2 * HOUR)
        for k in range(3)
    ]
    urgent = make_visit("u", 2, priority=PRIORITY_URGENT_2H, deadline=2 * HOUR)
    problem = make_problem([*accepted, urgent], [busy, free])

    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    assert check_plan(problem, plan) == []

    assert (route := plan.route_of("u")) is not None and route.shift_id == "free"
    [left_out] = plan.unassigned
    assert left_out.visit_id.startswith("a") and "no longer fits" in left_out.reason
    busy_route = plan.route_of(accepted[0].id) or plan.route_of(accepted[1].id)
    assert busy_route is not None and len(busy_route.stops) == 2


def test_a_worker_who_cannot_get_back_to_base_in_time_does_not_stop_the_plan(
    make_problem: ProblemFactory,
) -> None:
    """One worker's last visit ran to the end of their shift, 50 minutes' drive from base with
    ten minutes left: their route cannot end in time even empty. The network is still planned
    (the visits go to the other worker) instead of the model being infeasible."""
    stranded = make_shift("stranded", start=7 * HOUR + 50 * 60, start_location=10)
    other = make_shift("other")
    visits = [make_visit("v1", 2), make_visit("u", 3, priority=PRIORITY_URGENT_2H,
                                                    deadline=2 * HOUR)]
    problem = make_problem(visits, [stranded, other])

    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    assert check_plan(problem, plan) == []
    assert {r.shift_id for r in plan.routes} == {"other"} and plan.unassigned == ()


@pytest.mark.safety("H-013")
def test_insert_urgent_leaves_a_routed_visit_where_it_is(make_problem: ProblemFactory) -> None:
    """Asked to insert a visit the plan already routes (it was booked while the placer was
    working), the plan comes back unchanged: a second copy routed it twice and the next warm
    start named its node twice ("Index ... is used multiple times" from OR-Tools)."""
    problem = _day(make_problem)
    plan = solve(problem, seconds=30, workers=1, solution_limit=20)
    routed = plan.routes[0].stops[-1].visit_id

    updated = insert_urgent(plan, problem, problem.visit(routed), seconds=0.5)

    assert updated.routes == plan.routes
    assert check_plan(problem, updated) == []


@pytest.mark.safety("H-148")
def test_a_stop_its_shift_may_no_longer_serve_does_not_lose_the_warm_start(
    make_problem: ProblemFactory,
) -> None:
    """The plan to improve has a visit on a shift the problem no longer allows for it (its
    worker declined it since). The rest of the plan is still restored as the search's start;
    before, OR-Tools refused the whole restore ("Vehicle N is not allowed at index M") and the
    re-optimisation started cold."""
    from routing.model import build_model, warm_routes
    from routing.screening import screen

    problem = _day(make_problem)
    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)
    moved = next(s.visit_id for r in plan.routes for s in r.stops
                 if s.visit_id != "v0" and r.worker_id == "w-a")
    declined = dataclasses.replace(
        problem, visits=tuple(dataclasses.replace(v, excluded_workers=frozenset({"w-a"}))
                              if v.id == moved else v for v in problem.visits))
    model = build_model(declined, screen(declined), {})
    model.routing.CloseModel()
    routes = warm_routes(model, plan)
    assert model.routing.ReadAssignmentFromRoutes(routes, True) is not None
    restored = {model.node_visit[model.manager.IndexToNode(i)].id  # type: ignore[union-attr]
                for route in routes for i in route}
    assert restored == {s.visit_id for r in plan.routes for s in r.stops} - {moved}


@pytest.mark.safety("H-241")
def test_a_late_two_hour_visit_goes_before_late_home_care_calls(
    make_problem: ProblemFactory,
) -> None:
    """A night nurse has accepted four evening care calls (24-hour, already late) and a
    2-hour visit for a person in crisis (late too, whatever the order). The crisis comes
    first. Before, every late second weighed alike, so the planner put the 2-hour visit last
    to save a little travel: in a simulated day a 2-hour visit accepted at 20:08 was planned
    for 01:44, after four late care calls."""
    calls = [make_visit(f"call{k}", k, duration=2700, deadline=600, priority=3, pinned_to="a")
             for k in range(1, 5)]
    crisis = make_visit("crisis", 5, duration=2700, deadline=600, priority=PRIORITY_URGENT_2H,
                        pinned_to="a")
    problem = make_problem([*calls, crisis], [make_shift("a", end=12 * HOUR)])

    plan = solve(problem, seconds=CEILING, workers=1, solution_limit=SOLUTIONS)

    route = plan.route_of("crisis")
    assert route is not None
    assert [s.visit_id for s in route.stops][0] == "crisis"

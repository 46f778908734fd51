"""Hard constraints of the OR-Tools scheduler, each on a small hand-built instance.

Every plan is verified by the independent checker (routing.checker), never by the solver.
"""

from __future__ import annotations

from routing.solver import improve, solve
from routing.types import Break
from tests.routing.conftest import (
    CEILING,
    HOUR,
    ProblemFactory,
    make_shift,
    make_visit,
    shift_of,
    solve_checked,
)


def test_solve_skills_only_skilled_shift_serves(make_problem: ProblemFactory) -> None:
    """A visit needing a skill goes to the one shift holding it, even if farther away."""
    visits = [make_visit("cath", 1, skills=frozenset({"nurse", "catheter"}))]
    shifts = [
        make_shift("near", start_location=1, end_location=1),
        make_shift(
            "far", start_location=9, end_location=9, skills=frozenset({"nurse", "catheter"})
        ),
    ]

    plan = solve_checked(make_problem(visits, shifts))

    assert shift_of(plan, "cath") == "far"


def test_solve_time_window_respected(make_problem: ProblemFactory) -> None:
    """A visit is never started before its window opens, even if the worker arrives early."""
    visits = [make_visit("v1", 1, earliest=2 * HOUR, deadline=3 * HOUR)]

    plan = solve_checked(make_problem(visits, [make_shift()]))

    stop = plan.routes[0].stops[0]
    assert 2 * HOUR <= stop.start <= 3 * HOUR


def test_solve_deadline_orders_visits(make_problem: ProblemFactory) -> None:
    """The far visit with the early deadline is served first although it costs more travel."""
    visits = [make_visit("near", 1, earliest=0), make_visit("far", 8, deadline=int(0.75 * HOUR))]

    plan = solve_checked(make_problem(visits, [make_shift()]))

    assert [s.visit_id for s in plan.routes[0].stops] == ["far", "near"]


def test_solve_break_taken_within_window(make_problem: ProblemFactory) -> None:
    """The rostered break is placed inside its window and no visit overlaps it."""
    shift = make_shift(breaks=(Break(start_min=HOUR, start_max=HOUR + 600, duration=1800),))
    visits = [make_visit(f"v{k}", k, earliest=0) for k in range(1, 5)]

    plan = solve_checked(make_problem(visits, [shift]))

    placed = plan.routes[0].breaks
    assert len(placed) == 1 and HOUR <= placed[0].start <= HOUR + 600


def test_solve_pinned_visit_keeps_shift_and_start(make_problem: ProblemFactory) -> None:
    """An accepted visit stays on its shift at its start although another shift is closer."""
    visits = [make_visit("pinned", 8, pinned_to="a", pinned_start=3 * HOUR), make_visit("free", 2)]
    shifts = [make_shift("a"), make_shift("b", start_location=8, end_location=8)]

    plan = solve_checked(make_problem(visits, shifts))

    route = plan.route_of("pinned")
    assert route is not None and route.shift_id == "a"
    assert next(s.start for s in route.stops if s.visit_id == "pinned") == 3 * HOUR


def test_solve_pinned_visit_without_start_keeps_its_window(make_problem: ProblemFactory) -> None:
    """An accepted visit kept on its worker (no fixed minute) is still served within its
    window: not before the agreed start, and before its deadline when the route allows,
    ahead of an unpinned visit whose window is wider."""
    visits = [
        make_visit("agreed", 4, pinned_to="a", earliest=2 * HOUR, deadline=3 * HOUR),
        make_visit("early", 1, pinned_to="a", earliest=0, deadline=HOUR),
        make_visit("free", 3, earliest=0, deadline=8 * HOUR),
    ]

    plan = solve_checked(make_problem(visits, [make_shift("a")]))

    [route] = plan.routes
    starts = {s.visit_id: s.start for s in route.stops}
    assert 2 * HOUR <= starts["agreed"] <= 3 * HOUR
    assert starts["early"] <= HOUR
    assert plan.late == ()


def test_solve_shift_end_bounds_route(make_problem: ProblemFactory) -> None:
    """A short shift returns to base by its end, leaving what does not fit unassigned."""
    shift = make_shift(end=2 * HOUR)
    visits = [make_visit(f"v{k}", 5) for k in range(4)]

    plan = solve_checked(make_problem(visits, [shift]))

    assert plan.routes[0].return_time <= 2 * HOUR
    assert {u.code for u in plan.unassigned} == {"no_capacity"}


def test_solve_capacity_limits_load(make_problem: ProblemFactory) -> None:
    """Demands beyond a shift's capacity spill to the second shift."""
    visits = [make_visit(f"v{k}", k, demand=4) for k in range(1, 4)]
    shifts = [make_shift("a", capacity=8), make_shift("b", capacity=8)]

    plan = solve_checked(make_problem(visits, shifts))

    assert plan.vehicles_used == 2 and not plan.unassigned


def test_improve_with_nobody_on_shift_reports_every_visit(make_problem: ProblemFactory) -> None:
    """Re-optimising a network with open visits and no shift (the hours between a late and a
    night, or a staffing file with nobody on) returns every visit unassigned with a reason.
    Before the guard OR-Tools crashed the whole process (segfault) on a model with no
    vehicles, which killed a capacity-planner run at 22:00 of its first simulated day."""
    problem = make_problem([make_visit("v1", 3)], [])
    plan = solve(problem, seconds=CEILING, workers=1)

    again = improve(plan, problem, CEILING, workers=1)

    assert [u.visit_id for u in again.unassigned] == ["v1"]
    assert again.routes == ()

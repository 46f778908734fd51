"""The OR-Tools scheduling model: a frozen :class:`RoutingProblem` in, a :class:`RoutingPlan` out.

This is the only module that imports ``ortools`` (pinned in pyproject: ``ortools>=9.10,<10``;
tested with 9.15). The model follows the order of the OR-Tools samples: screening, index
manager, routing model, transit matrices (registered in C++, never Python callbacks, so the
search runs at C++ speed), dimensions, windows, skills, pins, breaks, drop penalties, search
parameters, solve, read-out.

Determinism
-----------
Every search parameter is fixed and the constraint solver is re-seeded from
``problem.seed``. A time-limited guided local search still depends on how much work fits in
the wall-clock budget; pass ``solution_limit`` to stop after a fixed number of accepted
solutions instead, which makes the result a pure function of ``(problem, seed)`` as long as
the time limit is not reached first. When two searches run in parallel the better objective
wins and ties go to the lower worker index, so the choice itself is deterministic.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util.optional_boolean_pb2 import BOOL_FALSE, BOOL_TRUE

from routing.errors import RoutingInfeasible
from routing.types import (
    PRIORITY_URGENT_2H,
    LateVisit,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Stop,
    Unassigned,
    Visit,
)

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic

#: Cost per second a ``serve_late`` visit starts after its deadline, in arc-cost units. High so
#: a late visit is served as early as possible rather than traded for travel.
LATE_COST_PER_SECOND = 100
#: Cost per second an urgent (priority <= 2) visit starts after its earliest start (time
#: objective only): a person in crisis should be seen as soon as possible, not merely before
#: the deadline. One second of waiting weighs as one second of travel, so an hour's wait is
#: only accepted to save more than an hour of driving elsewhere.
URGENCY_COST_PER_SECOND = 1
#: Cost of serving a visit with preferred workers by someone else (continuity of carer):
#: worth 15 minutes of travel, a preference, never a constraint.
CONTINUITY_COST = 900
#: Cost per second a shift's work (travel + service) exceeds the fair share (time objective only).
BALANCE_COST_PER_SECOND = 1
#: Ceiling on any drop penalty so objective sums stay far below 2**63. Only reached with
#: thousands of visits over many priority levels; then the hierarchy is no longer strict.
MAX_DROP_PENALTY = 2**50
#: First-solution strategies tried by parallel workers, in worker order. Cheapest insertion
#: copes with tight windows where path-cheapest-arc finds nothing (measured on R101/RC101).
WORKER_STRATEGIES = (
    FSS.PARALLEL_CHEAPEST_INSERTION,
    FSS.LOCAL_CHEAPEST_INSERTION,
    FSS.SAVINGS,
    FSS.PATH_CHEAPEST_ARC,
)
#: Local-search operators kept for urgent insertion (everything else is switched off).
INSERTION_OPERATORS = ("use_make_active", "use_swap_active", "use_relocate_and_make_active")
#: Share of ``insert_urgent``'s budget for the insertion-only phase (it usually stops early).
INSERT_FIRST_PHASE_SHARE = 0.9
#: Below this many seconds a further search is not worth starting.
MIN_SEARCH_SECONDS = 0.05
#: Guided local search ``lambda`` (OR-Tools default 0.1); lower explores less aggressively.
GLS_LAMBDA = 0.1


@dataclasses.dataclass
class _Model:
    """One built OR-Tools model plus the tables needed to read a solution back."""

    problem: RoutingProblem
    screening: Screening
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dim: pywrapcp.RoutingDimension
    node_visit: list[Visit | None]
    node_location: list[int]
    visit_node: dict[str, int]
    breaks: dict[int, list[pywrapcp.IntervalVar]]


def solve(
    problem: RoutingProblem,
    *,
    seconds: float,
    workers: int = 2,
    solution_limit: int | None = None,
) -> RoutingPlan:
    """Plan every shift's route.

    Parameters
    ----------
    problem
        The frozen problem.
    seconds
        Wall-clock budget for each parallel search (always enforced).
    workers
        Number of differently started searches run in parallel (forked processes, one per
        core); the best objective is kept, ties to the lower worker index.
    solution_limit
        Optional cap on accepted solutions, for reproducible runs (see module docstring).

    Raises
    ------
    RoutingInfeasible
        If no plan satisfies the hard constraints (pinned visits that cannot be kept).
    """
    screening = screen(problem)
    if not problem.shifts:
        return RoutingPlan((), screening.unassigned, 0, 0.0, 0, 0, 0.0)
    strategies = WORKER_STRATEGIES[: max(1, min(workers, len(WORKER_STRATEGIES)))]
    jobs = [
        _SearchJob(problem, screening, seconds, strategy, solution_limit, None, False)
        for strategy in strategies
    ]
    return _run_parallel(jobs)


def improve(
    plan: RoutingPlan,
    problem: RoutingProblem,
    seconds: float,
    *,
    workers: int = 2,
    solution_limit: int | None = None,
) -> RoutingPlan:
    """Re-optimise ``plan`` for ``seconds``, warm-starting from it (pins stay fixed).

    With two or more workers a cold search runs alongside the warm one and the better plan
    is kept, so a poor starting plan cannot trap the result.
    """
    screening = screen(problem)
    jobs = [
        _SearchJob(problem, screening, seconds, WORKER_STRATEGIES[0], solution_limit, plan, False)
    ]
    if workers > 1:
        jobs.append(
            _SearchJob(
                problem, screening, seconds, WORKER_STRATEGIES[0], solution_limit, None, False
            )
        )
    return _run_parallel(jobs)


def insert_urgent(
    plan: RoutingPlan,
    problem: RoutingProblem,
    visit: Visit,
    *,
    seconds: float = 1.0,
) -> RoutingPlan:
    """Place one new visit into ``plan`` moving as little as possible.

    First the cheapest feasible position in any eligible route is tried directly (no other
    visit moves; exact re-timing, milliseconds). If none exists, a search warm-starts from
    ``plan`` with every routed visit held on its shift and only
    insertion moves enabled (make the visit active; swap it for a less urgent visit, which
    the drop penalties allow only when that is worth it; relocate one visit to make room),
    run as a greedy descent that stops at the first local optimum. Only if the visit is
    still unplaced does a second descent with all moves let unpinned visits change shift.
    Pinned visits never move in either phase. ``seconds`` bounds the whole call.
    """
    started = time.perf_counter()
    if not any(v.id == visit.id for v in problem.visits):
        problem = dataclasses.replace(problem, visits=(*problem.visits, visit))
    screening = screen(problem)
    if visit.id not in screening.candidates:
        return _stamp(_with_unassigned(plan, screening, visit.id), started)
    fast = _cheapest_insertion(problem, screening, plan, visit)
    if fast is not None:
        return _stamp(fast, started)
    first = _SearchJob(
        problem,
        screening,
        seconds * INSERT_FIRST_PHASE_SHARE,
        FSS.PARALLEL_CHEAPEST_INSERTION,
        None,
        plan,
        True,
        keep_shifts=True,
        insert_only=True,
    )
    result = first.run()
    if result is not None and result.route_of(visit.id) is not None:
        return _stamp(result, started)
    remaining = seconds - (time.perf_counter() - started)
    if remaining > MIN_SEARCH_SECONDS:
        second = _SearchJob(
            problem,
            screening,
            remaining,
            FSS.PARALLEL_CHEAPEST_INSERTION,
            None,
            result or plan,
            True,
        )
        result = second.run() or result
    if result is None or result.route_of(visit.id) is None:
        # Out of time or room: the current plan stands and the visit is reported, not lost.
        base = result or plan
        missing = Unassigned(
            visit.id,
            "no capacity left: it could not be placed in the current plan within the time budget",
            "no_capacity",
        )
        kept = tuple(u for u in base.unassigned if u.visit_id != visit.id)
        return _stamp(dataclasses.replace(base, unassigned=(*kept, missing)), started)
    return _stamp(result, started)


def decline(problem: RoutingProblem, visit_id: str, worker_id: str) -> RoutingProblem:
    """The problem after ``worker_id`` declined ``visit_id``: that worker is excluded and
    any pin to that worker's shift is released, so the next solve or insertion re-places it."""
    shifts = {s.id: s for s in problem.shifts}
    visits = []
    for visit in problem.visits:
        if visit.id == visit_id:
            pinned = visit.pinned_to is not None and shifts[visit.pinned_to].worker_id == worker_id
            visit = dataclasses.replace(
                visit,
                excluded_workers=visit.excluded_workers | {worker_id},
                pinned_to=None if pinned else visit.pinned_to,
                pinned_start=None if pinned else visit.pinned_start,
            )
        visits.append(visit)
    return dataclasses.replace(problem, visits=tuple(visits))


def _stamp(plan: RoutingPlan, started: float) -> RoutingPlan:
    return dataclasses.replace(plan, seconds=round(time.perf_counter() - started, 3))


def _with_unassigned(plan: RoutingPlan, screening: Screening, visit_id: str) -> RoutingPlan:
    extra = tuple(u for u in screening.unassigned if u.visit_id == visit_id)
    return dataclasses.replace(plan, unassigned=(*plan.unassigned, *extra))


@dataclasses.dataclass
class _SearchJob:
    """One search: build a model, optionally warm-start it, solve, read the plan back."""

    problem: RoutingProblem
    screening: Screening
    seconds: float
    strategy: int
    solution_limit: int | None
    warm: RoutingPlan | None
    greedy: bool
    keep_shifts: bool = False
    insert_only: bool = False

    def run(self) -> RoutingPlan | None:
        started = time.perf_counter()
        fixed = _fixed_shifts(self.warm, self.problem) if self.keep_shifts else {}
        model = _build_model(self.problem, self.screening, fixed)
        params = _search_parameters(
            self.strategy, self.seconds, self.solution_limit, self.greedy, self.insert_only
        )
        solution = None
        if self.warm is not None:
            # Reading routes closes the model; close it first with *our* parameters, or the
            # operators and metaheuristic silently fall back to the defaults. Full propagation
            # makes restoring a plan with breaks fail less often (measured, not guaranteed).
            params.use_full_propagation = True
            model.routing.CloseModelWithParameters(params)
            initial = model.routing.ReadAssignmentFromRoutes(_warm_routes(model, self.warm), True)
            if initial is not None:
                solution = model.routing.SolveFromAssignmentWithParameters(initial, params)
        if solution is None and not self.insert_only:
            solution = model.routing.SolveWithParameters(params)
        if solution is None:
            return None
        return _read_plan(model, solution, time.perf_counter() - started)


def _run_parallel(jobs: Sequence[_SearchJob]) -> RoutingPlan:
    """Run job 0 here and the others in forked processes; keep the best plan.

    The SWIG wrapper holds the GIL during the search, so threads would not use the second
    core. Forked children inherit the built job (nothing is pickled on the way in, which
    would need the GIL the searching parent holds) and send back only the plan.
    """
    if len(jobs) == 1 or "fork" not in multiprocessing.get_all_start_methods():
        results = [job.run() for job in jobs[:1]]
    else:
        children = [_fork(job) for job in jobs[1:]]
        results = [jobs[0].run(), *(_collect(child) for child in children)]
    found = [(plan.objective, index, plan) for index, plan in enumerate(results) if plan]
    if not found:
        raise RoutingInfeasible("no plan satisfies the hard constraints (check pinned visits)")
    return min(found, key=lambda item: (item[0], item[1]))[2]


_Child = tuple[multiprocessing.process.BaseProcess, Connection]


def _fork(job: _SearchJob) -> _Child:
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(job, writer), daemon=True)
    process.start()
    writer.close()
    return process, reader


def _child_main(job: _SearchJob, writer: Connection) -> None:
    try:
        writer.send(job.run())
    except Exception:  # the parent treats a failed worker as "no plan"
        writer.send(None)
    finally:
        writer.close()


def _collect(child: _Child) -> RoutingPlan | None:
    process, reader = child
    try:
        plan: RoutingPlan | None = reader.recv()
    except EOFError:
        plan = None
    finally:
        reader.close()
        process.join()
    return plan


def _fixed_shifts(plan: RoutingPlan | None, problem: RoutingProblem) -> dict[str, str]:
    if plan is None:
        return {}
    return {stop.visit_id: route.shift_id for route in plan.routes for stop in route.stops}


def _search_parameters(
    strategy: int,
    seconds: float,
    solution_limit: int | None,
    greedy: bool,
    insert_only: bool = False,
) -> pywrapcp.RoutingSearchParameters:
    params = pywrapcp.DefaultRoutingSearchParameters()
    if insert_only:
        _insertion_operators_only(params)
    params.first_solution_strategy = strategy
    params.local_search_metaheuristic = LSM.GREEDY_DESCENT if greedy else LSM.GUIDED_LOCAL_SEARCH
    params.guided_local_search_lambda_coefficient = GLS_LAMBDA
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if solution_limit is not None:
        params.solution_limit = solution_limit
    return params


def _insertion_operators_only(params: pywrapcp.RoutingSearchParameters) -> None:
    """Keep only moves that bring an unperformed visit in (and may swap one out).

    Used for urgent insertion: the search then never reshuffles the rest of the plan, and
    each descent step is cheap enough for a sub-second answer at 500 visits.
    """
    operators = params.local_search_operators
    for descriptor in operators.DESCRIPTOR.fields:
        setattr(operators, descriptor.name, BOOL_FALSE)
    for name in INSERTION_OPERATORS:
        setattr(operators, name, BOOL_TRUE)


# --------------------------------------------------------------------------- fast insertion


@dataclasses.dataclass(frozen=True)
class _Timed:
    """A re-timed route: its stops, placed breaks, return time, travel and cost."""

    stops: tuple[Stop, ...]
    breaks: tuple[PlacedBreak, ...]
    return_time: int
    travel: int
    cost: int


def _cheapest_insertion(
    problem: RoutingProblem, screening: Screening, plan: RoutingPlan, visit: Visit
) -> RoutingPlan | None:
    """Insert ``visit`` at its cheapest feasible position, moving no other visit.

    Every candidate route is re-timed from its shift start (as early as possible, pinned
    starts kept, each break taken at the first moment its window allows); the position that
    adds the least cost (travel, plus waiting for urgent visits and lateness, as in the full
    model) wins, ties to the first shift and position. None if nothing fits.
    """
    visits = {v.id: v for v in problem.visits}
    routes = {route.shift_id: route for route in plan.routes}
    if any(s.visit_id not in visits for r in plan.routes for s in r.stops):
        return None  # the plan is stale; let the full search rebuild it
    best: tuple[int, int, _Timed] | None = None
    for vehicle in screening.candidates[visit.id]:
        shift = problem.shifts[vehicle]
        route = routes.get(shift.id)
        current = [visits[s.visit_id] for s in route.stops] if route is not None else []
        before = _retime(problem, screening, shift, current)
        if before is None:
            continue
        for position in range(len(current) + 1):
            timed = _retime(
                problem, screening, shift, current[:position] + [visit] + current[position:]
            )
            if timed is not None and (best is None or timed.cost - before.cost < best[0]):
                best = (timed.cost - before.cost, vehicle, timed)
    if best is None:
        return None
    return _replace_route(problem, plan, problem.shifts[best[1]], best[2])


def _retime(
    problem: RoutingProblem, screening: Screening, shift: Shift, sequence: list[Visit]
) -> _Timed | None:
    """Earliest schedule of ``sequence`` on ``shift``, or None if it breaks a hard rule."""
    if shift.capacity is not None and sum(v.demand for v in sequence) > shift.capacity:
        return None
    cost_matrix = problem.distance if problem.objective == "distance" else problem.travel
    assert cost_matrix is not None
    pending = sorted(shift.breaks, key=lambda b: (b.start_max, b.start_min))
    placed: list[PlacedBreak] = []
    stops: list[Stop] = []
    where, ready, travel, cost = shift.start_location, shift.start, 0, 0
    for visit in [*sequence, None]:
        location = shift.end_location if visit is None else visit.location
        leg = int(problem.travel[where, location])
        earliest = shift.end if visit is None else visit.earliest
        service = 0 if visit is None else visit.duration
        while pending:
            item = pending[0]
            at = max(ready, item.start_min)
            if at > item.start_max:
                return None
            start = max(ready + leg, earliest) if visit is not None else ready + leg
            delays = at + item.duration + leg > start
            if visit is not None and delays and item.start_max >= start + service:
                break  # it can wait until after this visit, so do not delay the visit now
            placed.append(PlacedBreak(at, at + item.duration))
            ready = at + item.duration
            pending.pop(0)
        arrival = ready + leg
        travel += leg
        cost += int(cost_matrix[where, location])
        if visit is None:
            return (
                None
                if arrival > shift.end
                else _Timed(tuple(stops), tuple(placed), arrival, travel, cost)
            )
        start = max(arrival, visit.earliest)
        if visit.pinned_start is not None:
            if arrival > visit.pinned_start:
                return None
            start = visit.pinned_start
        elif start > visit.deadline and visit.id not in screening.late:
            return None
        stops.append(Stop(visit.id, arrival, start, start + visit.duration))
        # The same soft costs the full model charges: waiting for urgent visits, lateness.
        if _urgent(problem, visit):
            cost += URGENCY_COST_PER_SECOND * (start - visit.earliest)
        cost += LATE_COST_PER_SECOND * max(0, start - visit.deadline)
        where, ready = location, start + visit.duration
    return None  # unreachable: the loop returns at the end marker


def _replace_route(
    problem: RoutingProblem, plan: RoutingPlan, shift: Shift, timed: _Timed
) -> RoutingPlan:
    route = Route(
        shift.id,
        shift.worker_id,
        timed.stops,
        shift.start,
        timed.return_time,
        timed.breaks,
        timed.travel,
    )
    others = [r for r in plan.routes if r.shift_id != shift.id]
    order = {s.id: k for k, s in enumerate(problem.shifts)}
    routes = tuple(sorted([*others, route], key=lambda r: order.get(r.shift_id, len(order))))
    old = next((r for r in plan.routes if r.shift_id == shift.id), None)
    distance = problem.distance if problem.distance is not None else problem.travel
    added = _route_distance(problem, distance, shift, route) - (
        _route_distance(problem, distance, shift, old) if old is not None else 0
    )
    served = {s.visit_id for s in route.stops}
    late = tuple(x for x in plan.late if x.visit_id not in served) + tuple(
        LateVisit(s.visit_id, problem.visit(s.visit_id).deadline, s.start)
        for s in route.stops
        if s.start > problem.visit(s.visit_id).deadline
    )
    return dataclasses.replace(
        plan,
        routes=routes,
        unassigned=tuple(u for u in plan.unassigned if u.visit_id not in served),
        travel_total=plan.travel_total + timed.travel - (old.travel if old else 0),
        distance_total=plan.distance_total + added / problem.distance_scale,
        vehicles_used=len(routes),
        late=late,
    )


def _route_distance(
    problem: RoutingProblem, distance: npt.NDArray[np.int64], shift: Shift, route: Route
) -> int:
    inner = [problem.visit(s.visit_id).location for s in route.stops]
    locations = [shift.start_location, *inner, shift.end_location]
    return int(sum(distance[a, b] for a, b in zip(locations, locations[1:], strict=False)))


# --------------------------------------------------------------------------- screening


@dataclasses.dataclass(frozen=True)
class Screening:
    """Pre-analysis before the search: who may serve each visit, and why others cannot.

    ``candidates`` maps each visit the solver sees to its eligible shift indices; visits
    screened out carry their reason in ``unassigned``. ``late`` holds visits whose deadline
    no eligible shift can meet but which ``serve_late`` still routes (soft deadline).
    """

    candidates: dict[str, tuple[int, ...]]
    late: frozenset[str]
    unassigned: tuple[Unassigned, ...]
    penalties: dict[str, int]

    def capacity_reasons(self, visit_ids: Sequence[str]) -> list[Unassigned]:
        """Reasons for candidate visits the search left out: there was no room for them."""
        return [
            Unassigned(
                v, "no capacity left: every eligible shift is full at that time", "no_capacity"
            )
            for v in visit_ids
        ]


def screen(problem: RoutingProblem) -> Screening:
    """Classify every visit before solving (see :class:`Screening`)."""
    candidates: dict[str, tuple[int, ...]] = {}
    late: set[str] = set()
    unassigned: list[Unassigned] = []
    for visit in problem.visits:
        if visit.pinned_to is not None:
            candidates[visit.id] = ()
            continue
        verdict = _screen_visit(problem, visit)
        if isinstance(verdict, Unassigned):
            unassigned.append(verdict)
            continue
        shifts, is_late = verdict
        candidates[visit.id] = shifts
        if is_late:
            late.add(visit.id)
    penalties = drop_penalties(problem, candidates, late)
    return Screening(candidates, frozenset(late), tuple(unassigned), penalties)


def _screen_visit(
    problem: RoutingProblem, visit: Visit
) -> Unassigned | tuple[tuple[int, ...], bool]:
    skilled = [k for k, s in enumerate(problem.shifts) if visit.skills <= s.skills]
    if not problem.shifts:
        return Unassigned(visit.id, "no one is on shift", "no_skill")
    if not skilled:
        needed = ", ".join(sorted(visit.skills))
        return Unassigned(visit.id, f"no one on shift has the skill(s): {needed}", "no_skill")
    eligible = [k for k in skilled if problem.shifts[k].worker_id not in visit.excluded_workers]
    if not eligible:
        return Unassigned(visit.id, "every skilled worker on shift has declined it", "excluded")
    roomy = [k for k in eligible if _fits_capacity(problem.shifts[k], visit)]
    if not roomy:
        return Unassigned(
            visit.id, "no capacity left: it exceeds every shift's capacity", "no_capacity"
        )
    timely = [k for k in roomy if _reachable(problem, problem.shifts[k], visit, True)]
    if timely:
        return tuple(timely), False
    if problem.late_policy == "serve_late":
        lateable = [k for k in roomy if _reachable(problem, problem.shifts[k], visit, False)]
        if lateable:
            return tuple(lateable), True
    return Unassigned(visit.id, "no one can reach it before the deadline", "unreachable")


def _fits_capacity(shift: Shift, visit: Visit) -> bool:
    return shift.capacity is None or visit.demand <= shift.capacity


def _reachable(problem: RoutingProblem, shift: Shift, visit: Visit, by_deadline: bool) -> bool:
    """Can ``shift`` go straight from base to the visit, serve it and get home in time?"""
    travel = problem.travel
    arrive = shift.start + int(travel[shift.start_location, visit.location])
    start = max(arrive, visit.earliest)
    if by_deadline and start > visit.deadline:
        return False
    back = start + visit.duration + int(travel[visit.location, shift.end_location])
    return back <= shift.end


def drop_penalties(
    problem: RoutingProblem, candidates: dict[str, tuple[int, ...]], late: set[str]
) -> dict[str, int]:
    """Hierarchical drop penalties, one per priority level (smaller number = more urgent).

    The least urgent level costs more than every soft cost the whole plan could incur
    (all arcs at the longest arc, all lateness, continuity and balance), so serving a
    visit always beats dropping it. Each more urgent level costs more than dropping *all*
    visits of every less urgent level together, so a 2-hour visit is never dropped while
    a 24-hour one is served in its place (unless skills or windows force it).
    """
    cost = problem.distance if problem.objective == "distance" else problem.travel
    assert cost is not None
    horizon = _horizon(problem)
    arcs = len(problem.visits) + 2 * len(problem.shifts)
    soft = (
        int(cost.max()) * arcs
        + LATE_COST_PER_SECOND * horizon * len(late)
        + CONTINUITY_COST * len(problem.visits)
        + BALANCE_COST_PER_SECOND * horizon * 4 * len(problem.shifts)
        + URGENCY_COST_PER_SECOND * horizon * sum(_urgent(problem, v) for v in problem.visits)
    )
    counts: dict[int, int] = {}
    for visit in problem.visits:
        if visit.id in candidates:
            counts[visit.priority] = counts.get(visit.priority, 0) + 1
    per_level: dict[int, int] = {}
    below = 0  # sum of all penalties of less urgent levels
    for priority in sorted(counts, reverse=True):
        per_level[priority] = min(MAX_DROP_PENALTY, soft + 1 + below)
        below = min(MAX_DROP_PENALTY, below + counts[priority] * per_level[priority])
    return {
        visit.id: per_level[visit.priority] for visit in problem.visits if visit.id in candidates
    }


# --------------------------------------------------------------------------- model building


def _build_model(problem: RoutingProblem, screening: Screening, fixed: dict[str, str]) -> _Model:
    model = _index_model(problem, screening)
    time_eval, cost_eval = _register_matrices(model)
    model.routing.SetArcCostEvaluatorOfAllVehicles(cost_eval)
    _add_time_dimension(model, time_eval)
    _add_capacity_dimension(model)
    _add_continuity_dimension(model)
    if problem.objective == "time" and len(problem.shifts) > 1:
        _add_balance_dimension(model, time_eval)
    _add_visit_rules(model, fixed)
    _add_breaks(model)
    _add_finalizers(model)
    model.routing.solver().ReSeed(problem.seed)
    return model


def _index_model(problem: RoutingProblem, screening: Screening) -> _Model:
    """Nodes 0..d-1 are the distinct shift bases, then one node per candidate visit."""
    bases = sorted(
        {s.start_location for s in problem.shifts} | {s.end_location for s in problem.shifts}
    )
    base_node = {location: node for node, location in enumerate(bases)}
    visits = [v for v in problem.visits if v.id in screening.candidates]
    node_visit: list[Visit | None] = [None] * len(bases) + list(visits)
    node_location = bases + [v.location for v in visits]
    starts = [base_node[s.start_location] for s in problem.shifts]
    ends = [base_node[s.end_location] for s in problem.shifts]
    manager = pywrapcp.RoutingIndexManager(len(node_visit), len(problem.shifts), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    visit_node = {v.id: len(bases) + k for k, v in enumerate(visits)}
    return _Model(
        problem, screening, manager, routing, None, node_visit, node_location, visit_node, {}
    )


def _register_matrices(model: _Model) -> tuple[int, int]:
    """Register the time (travel + service of the from-node) and cost matrices in C++."""
    problem = model.problem
    loc = model.node_location
    travel = problem.travel[loc][:, loc]
    service = [0 if v is None else v.duration for v in model.node_visit]
    time_matrix = travel + _column(service)
    if problem.objective == "distance" and problem.distance is not None:
        cost = problem.distance[loc][:, loc]
    else:
        cost = travel
    time_eval = model.routing.RegisterTransitMatrix(time_matrix.tolist())
    cost_eval = model.routing.RegisterTransitMatrix(cost.tolist())
    return time_eval, cost_eval


def _column(values: list[int]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64).reshape(-1, 1)


def _horizon(problem: RoutingProblem) -> int:
    ends = [s.end for s in problem.shifts] + [v.deadline for v in problem.visits]
    return max(ends + [1])


def _add_time_dimension(model: _Model, time_eval: int) -> None:
    horizon = _horizon(model.problem)
    model.routing.AddDimension(
        time_eval,
        horizon,  # slack: waiting and breaks
        horizon,  # capacity: latest cumul
        False,  # fix_start_cumul_to_zero: shifts start at their own time
        "Time",
    )
    model.time_dim = model.routing.GetDimensionOrDie("Time")
    for vehicle, shift in enumerate(model.problem.shifts):
        model.time_dim.CumulVar(model.routing.Start(vehicle)).SetRange(shift.start, shift.end)
        model.time_dim.CumulVar(model.routing.End(vehicle)).SetRange(shift.start, shift.end)


def _add_capacity_dimension(model: _Model) -> None:
    problem = model.problem
    if not any(v.demand for v in problem.visits) or all(s.capacity is None for s in problem.shifts):
        return
    demands = [0 if v is None else v.demand for v in model.node_visit]
    unlimited = sum(demands) + 1
    capacities = [unlimited if s.capacity is None else s.capacity for s in problem.shifts]
    demand_eval = model.routing.RegisterUnaryTransitVector(demands)
    model.routing.AddDimensionWithVehicleCapacity(
        demand_eval,
        0,
        capacities,
        True,
        "Capacity",  # slack 0, start empty
    )


def _add_continuity_dimension(model: _Model) -> None:
    """Count visits served by a non-preferred worker; span cost makes each one cost."""
    problem = model.problem
    if not any(v is not None and v.preferred_workers for v in model.node_visit):
        return
    by_vector: dict[tuple[int, ...], int] = {}
    evaluators: dict[str, int] = {}
    for shift in problem.shifts:
        if shift.worker_id in evaluators:
            continue
        misses = tuple(
            int(
                v is not None
                and bool(v.preferred_workers)
                and shift.worker_id not in v.preferred_workers
            )
            for v in model.node_visit
        )
        if misses not in by_vector:
            # A full matrix (charged on leaving the node), shared by workers with the same
            # misses: the unary-vector form made feasible models report no solution in 9.15
            # when a capacity dimension was present (found by the property test).
            matrix = np.repeat(np.asarray(misses, dtype=np.int64)[:, None], len(misses), axis=1)
            by_vector[misses] = model.routing.RegisterTransitMatrix(matrix.tolist())
        evaluators[shift.worker_id] = by_vector[misses]
    model.routing.AddDimensionWithVehicleTransits(
        [evaluators[s.worker_id] for s in problem.shifts],
        0,  # slack
        len(model.node_visit),  # capacity
        True,  # fix_start_cumul_to_zero
        "Continuity",
    )
    dim = model.routing.GetDimensionOrDie("Continuity")
    for vehicle in range(len(problem.shifts)):
        dim.SetSpanCostCoefficientForVehicle(CONTINUITY_COST, vehicle)


def _add_balance_dimension(model: _Model, time_eval: int) -> None:
    """Soft cap each shift's work at the fair share so the load spreads across staff."""
    horizon = _horizon(model.problem)
    model.routing.AddDimension(time_eval, 0, horizon * 4, True, "Work")
    dim = model.routing.GetDimensionOrDie("Work")
    total = sum(v.duration for v in model.node_visit if v is not None)
    fair = total // len(model.problem.shifts) + 1
    for vehicle in range(len(model.problem.shifts)):
        dim.SetCumulVarSoftUpperBound(model.routing.End(vehicle), fair, BALANCE_COST_PER_SECOND)


def _add_visit_rules(model: _Model, fixed: dict[str, str]) -> None:
    """Windows, allowed shifts, pins and drop penalties for each visit node."""
    problem, screening, routing = model.problem, model.screening, model.routing
    shift_index = {s.id: k for k, s in enumerate(problem.shifts)}
    horizon = _horizon(problem)
    for visit_id, node in model.visit_node.items():
        visit = model.node_visit[node]
        assert visit is not None
        index = model.manager.NodeToIndex(node)
        cumul = model.time_dim.CumulVar(index)
        if visit.pinned_to is not None:
            routing.VehicleVar(index).SetValues([shift_index[visit.pinned_to]])
            if visit.pinned_start is not None:
                cumul.SetValue(visit.pinned_start)
            continue  # pinned: mandatory, no disjunction
        allowed = list(screening.candidates[visit_id])
        if visit_id in fixed and shift_index.get(fixed[visit_id]) in allowed:
            allowed = [shift_index[fixed[visit_id]]]
        if len(allowed) < len(problem.shifts):
            # SetAllowedVehiclesForIndex's Python binding rejects lists in 9.15; -1 = dropped.
            routing.VehicleVar(index).SetValues([-1, *allowed])
        if visit_id in screening.late:
            cumul.SetRange(visit.earliest, horizon)
            model.time_dim.SetCumulVarSoftUpperBound(index, visit.deadline, LATE_COST_PER_SECOND)
        else:
            cumul.SetRange(visit.earliest, visit.deadline)
            if _urgent(problem, visit):
                model.time_dim.SetCumulVarSoftUpperBound(
                    index, visit.earliest, URGENCY_COST_PER_SECOND)
        routing.AddDisjunction([index], screening.penalties[visit_id])


def _urgent(problem: RoutingProblem, visit: Visit) -> bool:
    """Whether ``visit`` should be served as early as possible (urgent, time objective)."""
    return problem.objective == "time" and visit.priority <= PRIORITY_URGENT_2H


def _add_breaks(model: _Model) -> None:
    """Breaks as fixed-duration intervals, as in the OR-Tools ``vrp_breaks`` sample."""
    solver = model.routing.solver()
    visit_transits = [
        _node_service(model, model.manager.IndexToNode(index))
        for index in range(model.routing.Size())
    ]
    for vehicle, shift in enumerate(model.problem.shifts):
        intervals = [
            solver.FixedDurationIntervalVar(
                item.start_min, item.start_max, item.duration, False, f"break {vehicle} {k}"
            )
            for k, item in enumerate(shift.breaks)
        ]
        if intervals:
            model.time_dim.SetBreakIntervalsOfVehicle(intervals, vehicle, visit_transits)
            model.breaks[vehicle] = intervals


def _node_service(model: _Model, node: int) -> int:
    visit = model.node_visit[node]
    return 0 if visit is None else visit.duration


def _add_finalizers(model: _Model) -> None:
    """Serve every visit as early as its route allows, and return to base early."""
    routing = model.routing
    for node in model.visit_node.values():
        index = model.manager.NodeToIndex(node)
        routing.AddVariableMinimizedByFinalizer(model.time_dim.CumulVar(index))
    for vehicle in range(len(model.problem.shifts)):
        routing.AddVariableMinimizedByFinalizer(model.time_dim.CumulVar(routing.End(vehicle)))


def _warm_routes(model: _Model, plan: RoutingPlan) -> list[list[int]]:
    shift_index = {s.id: k for k, s in enumerate(model.problem.shifts)}
    routes: list[list[int]] = [[] for _ in model.problem.shifts]
    for route in plan.routes:
        vehicle = shift_index.get(route.shift_id)
        if vehicle is None:
            continue
        routes[vehicle] = [
            model.manager.NodeToIndex(model.visit_node[stop.visit_id])
            for stop in route.stops
            if stop.visit_id in model.visit_node
        ]
    return routes


# --------------------------------------------------------------------------- read-out


def _read_plan(model: _Model, solution: pywrapcp.Assignment, seconds: float) -> RoutingPlan:
    problem = model.problem
    breaks = _read_breaks(model, solution)
    routes: list[Route] = []
    travel_total = 0
    distance_total = 0
    served: set[str] = set()
    for vehicle in range(len(problem.shifts)):
        route, travel, distance = _read_route(model, solution, vehicle, breaks.get(vehicle, ()))
        served.update(stop.visit_id for stop in route.stops)
        if route.stops:
            routes.append(route)
            travel_total += travel
            distance_total += distance
    unassigned = list(model.screening.unassigned)
    unassigned += model.screening.capacity_reasons(
        [v.id for v in problem.visits if v.id in model.visit_node and v.id not in served]
    )
    late = tuple(
        LateVisit(stop.visit_id, problem.visit(stop.visit_id).deadline, stop.start)
        for route in routes
        for stop in route.stops
        if stop.start > problem.visit(stop.visit_id).deadline
    )
    return RoutingPlan(
        routes=tuple(routes),
        unassigned=tuple(unassigned),
        travel_total=travel_total,
        distance_total=distance_total / problem.distance_scale,
        vehicles_used=len(routes),
        objective=solution.ObjectiveValue(),
        seconds=round(seconds, 3),
        late=late,
    )


def _read_breaks(
    model: _Model, solution: pywrapcp.Assignment
) -> dict[int, tuple[PlacedBreak, ...]]:
    placed: dict[int, tuple[PlacedBreak, ...]] = {}
    for vehicle, intervals in model.breaks.items():
        found = [
            PlacedBreak(solution.StartValue(iv), solution.StartValue(iv) + iv.DurationMin())
            for iv in intervals
        ]
        placed[vehicle] = tuple(sorted(found, key=lambda b: b.start))
    return placed


def _read_route(
    model: _Model,
    solution: pywrapcp.Assignment,
    vehicle: int,
    breaks: tuple[PlacedBreak, ...],
) -> tuple[Route, int, int]:
    problem, routing = model.problem, model.routing
    shift = problem.shifts[vehicle]
    distance = problem.distance if problem.distance is not None else problem.travel
    index = routing.Start(vehicle)
    departure = solution.Value(model.time_dim.CumulVar(index))
    previous, ready = shift.start_location, departure
    stops: list[Stop] = []
    travel_sum = distance_sum = 0
    while True:
        index = solution.Value(routing.NextVar(index))
        node = model.manager.IndexToNode(index)
        location = model.node_location[node]
        travel_sum += int(problem.travel[previous, location])
        distance_sum += int(distance[previous, location])
        if routing.IsEnd(index):
            break
        visit = model.node_visit[node]
        assert visit is not None
        start = solution.Value(model.time_dim.CumulVar(index))
        gap = sum(b.end - b.start for b in breaks if ready <= b.start < start)
        arrival = min(start, ready + int(problem.travel[previous, location]) + gap)
        stops.append(Stop(visit.id, arrival, start, start + visit.duration))
        previous, ready = location, start + visit.duration
    return_time = solution.Value(model.time_dim.CumulVar(index))
    route = Route(
        shift.id, shift.worker_id, tuple(stops), departure, return_time, breaks, travel_sum
    )
    return route, travel_sum, distance_sum

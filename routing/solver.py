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

from routing.costs import (
    AVOID_COST,
    BALANCE_COST_PER_SECOND,
    CONTINUITY_COST,
    MARGIN_COST_PER_SECOND,
    PINNED_DROP_PENALTY,
    URGENCY_COST_PER_SECOND,
    cost_scale,
    horizon_of,
    is_urgent,
    late_cost_per_second,
    lateness_as_cost,
    margin_start,
    max_late_cost_per_second,
    worker_cost,
)
from routing.insertion import cheapest_insertion, greedy_plan
from routing.linked_insertion import linked_start, repair_links
from routing.links import check_links
from routing.repair import repair_urgent
from routing.screening import Screening, screen
from routing.types import (
    LateVisit,
    PlacedBreak,
    Route,
    RoutingPlan,
    RoutingProblem,
    Stop,
    Unassigned,
    Visit,
)

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic

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
    #: Per shift (vehicle): the registered time evaluator of its travel profile.
    time_evals: list[int] = dataclasses.field(default_factory=list)


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

    When no search finds a plan within its limits (its time ran out before the first
    solution, as on a heavily loaded machine), the plan is the greedy insertion plan
    (:func:`routing.insertion.greedy_plan`) with ``fallback`` and ``note`` saying so: a solve
    always returns a plan (hazard H-011).
    """
    screening = screen(problem)
    if not problem.shifts:
        return RoutingPlan((), screening.unassigned, 0, 0.0, 0, 0, 0.0)
    strategies = WORKER_STRATEGIES[: max(1, min(workers, len(WORKER_STRATEGIES)))]
    # With links the first search starts from a pair-aware insertion plan: the library's
    # heuristics place one node at a time and cannot bring in a pair (routing.linked_insertion).
    start = linked_start(problem, screening) if problem.links else None
    jobs = [
        _SearchJob(problem, screening, seconds, strategy, solution_limit,
                   start if k == 0 else None, False)
        for k, strategy in enumerate(strategies)
    ]
    return _repaired(problem, screening, _run_parallel(jobs))


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
    if not problem.shifts:  # OR-Tools crashes the process on a model with no vehicles
        return RoutingPlan((), screening.unassigned, 0, 0.0, 0, 0, 0.0)
    jobs = [
        _SearchJob(problem, screening, seconds, WORKER_STRATEGIES[0], solution_limit, plan, False)
    ]
    if workers > 1:
        jobs.append(
            _SearchJob(
                problem, screening, seconds, WORKER_STRATEGIES[0], solution_limit, None, False
            )
        )
    return _repaired(problem, screening, _run_parallel(jobs))


def insert_urgent(
    plan: RoutingPlan,
    problem: RoutingProblem,
    visit: Visit,
    *,
    seconds: float = 1.0,
) -> RoutingPlan:
    """Place one new visit into ``plan`` moving as little as possible (see
    :func:`_insert_urgent`), never at the price of a linked pair's rule.

    Why the check (H-101): the property test found an insertion that re-timed a route so that
    an existing pair's starts drifted out of their gap. A result that breaks a link the
    current plan kept is not returned: the plan stands and the new visit (with its partner)
    is reported, so a person sees it instead of a pair being split silently.
    """
    started = time.perf_counter()
    result = _insert_urgent(plan, problem, visit, seconds=seconds)
    if not problem.links:
        return result
    full = problem if any(v.id == visit.id for v in problem.visits) else dataclasses.replace(
        problem, visits=(*problem.visits, visit))
    if set(check_links(full, result)) <= set(check_links(full, plan)):
        return result
    reason = ("placing it would break the timing of a linked pair in the current plan: "
              "left for a person to decide")
    ids = {visit.id, *filter(None, [full.partner(visit.id)])}
    kept = tuple(u for u in plan.unassigned if u.visit_id not in ids)
    missing = tuple(Unassigned(i, reason, "no_capacity") for i in sorted(ids))
    return _stamp(dataclasses.replace(plan, unassigned=(*kept, *missing)), started)


def _insert_urgent(
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
    Pinned visits never move in either phase. ``seconds`` bounds the whole call. A visit
    the plan already routes is left where it is.
    """
    started = time.perf_counter()
    if plan.route_of(visit.id) is not None:
        return _stamp(plan, started)  # already placed: a second copy would route it twice
    if not any(v.id == visit.id for v in problem.visits):
        problem = dataclasses.replace(problem, visits=(*problem.visits, visit))
    screening = screen(problem)
    partner = problem.partner(visit.id)
    if visit.id not in screening.candidates:
        found = _with_unassigned(plan, screening, visit.id)
        if partner is not None and _untracked(found, partner):
            found = _with_unassigned(found, screening, partner)
        return _stamp(found, started)
    fast = cheapest_insertion(problem, screening, plan, visit)
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
    result = _run_one(first)
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
        result = _run_one(second) or result
    if result is None or result.route_of(visit.id) is None:
        # Out of time or room: the current plan stands and the visit is reported, not lost.
        base = result or plan
        missing = Unassigned(
            visit.id,
            "no capacity left: it could not be placed in the current plan within the time budget",
            "no_capacity",
        )
        kept = tuple(u for u in base.unassigned if u.visit_id != visit.id)
        found = dataclasses.replace(base, unassigned=(*kept, missing))
        if partner is not None and _untracked(found, partner):
            # A linked visit's partner goes out with it, never served alone (H-100).
            also = dataclasses.replace(missing, visit_id=partner)
            found = dataclasses.replace(found, unassigned=(*found.unassigned, also))
        return _stamp(found, started)
    return _stamp(result, started)


def _untracked(plan: RoutingPlan, visit_id: str) -> bool:
    """Whether ``visit_id`` is neither routed nor reported in ``plan``."""
    return plan.route_of(visit_id) is None and all(
        u.visit_id != visit_id for u in plan.unassigned
    )


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


def _repaired(problem: RoutingProblem, screening: Screening, plan: RoutingPlan) -> RoutingPlan:
    """The search's plan with dropped urgent visits placed where room exists (see
    :mod:`routing.repair`); the repair's time counts in ``plan.seconds``."""
    started = time.perf_counter()
    repaired = repair_urgent(problem, screening, plan)
    if problem.links:
        repaired = repair_links(problem, screening, repaired)
    if repaired is plan:
        return plan
    return dataclasses.replace(repaired, seconds=plan.seconds + time.perf_counter() - started)


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


_ISOLATED = {"on": False}


def isolate_searches(on: bool = True) -> None:
    """Run every search in a forked child, never in this process.

    Why: the SWIG wrapper holds the GIL for the whole search, so a search in a web server's
    process stalls its request threads for seconds. ``dispatch serve`` (web and jobs in one
    process) turns this on; the parent waits on a pipe, which releases the GIL.
    """
    _ISOLATED["on"] = on and "fork" in multiprocessing.get_all_start_methods()


def _run_one(job: _SearchJob) -> RoutingPlan | None:
    return _collect(_fork(job)) if _ISOLATED["on"] else job.run()


def _run_parallel(jobs: Sequence[_SearchJob]) -> RoutingPlan:
    """Run job 0 here and the others in forked processes; keep the best plan.

    The SWIG wrapper holds the GIL during the search, so threads would not use the second
    core. Forked children inherit the built job (nothing is pickled on the way in, which
    would need the GIL the searching parent holds) and send back only the plan. With
    :func:`isolate_searches` on, job 0 runs in a child too.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        results = [jobs[0].run()]
    elif _ISOLATED["on"]:
        results = [_collect(child) for child in [_fork(job) for job in jobs]]
    elif len(jobs) == 1:
        results = [jobs[0].run()]
    else:
        children = [_fork(job) for job in jobs[1:]]
        results = [jobs[0].run(), *(_collect(child) for child in children)]
    found = [(plan.objective, index, plan) for index, plan in enumerate(results) if plan]
    if not found:
        # Out of time before a first solution (a loaded machine): never no plan at all.
        first = jobs[0]
        return greedy_plan(first.problem, first.screening, first.warm)
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


# --------------------------------------------------------------------------- model building


def _build_model(problem: RoutingProblem, screening: Screening, fixed: dict[str, str]) -> _Model:
    model = _index_model(problem, screening)
    time_evals, cost_evals = _register_matrices(model)
    model.time_evals = time_evals
    for vehicle, cost_eval in enumerate(cost_evals):
        model.routing.SetArcCostEvaluatorOfVehicle(cost_eval, vehicle)
    _add_time_dimension(model, time_evals)
    _add_capacity_dimension(model)
    _add_continuity_dimension(model)
    if problem.objective == "time" and len(problem.shifts) > 1 and problem.lateness is None:
        # A problem that prices lateness states its whole objective (travel plus lateness,
        # as published home-care benchmarks score it): no load balancing on top.
        _add_balance_dimension(model, time_evals)
    _add_visit_rules(model, fixed)
    _add_links(model)
    _add_max_lateness(model)
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


def _register_matrices(model: _Model) -> tuple[list[int], list[int]]:
    """Register the time (travel + service of the from-node) and cost matrices in C++, one
    pair per travel profile in use; returns each shift's (vehicle's) time and cost evaluator.

    Each worker travels by their own profile (``Shift.profile``: walking, cycling, public
    transport or the problem's own ``travel``), so the time dimension has per-vehicle transits.
    """
    problem = model.problem
    loc = model.node_location
    service = _column([0 if v is None else v.duration for v in model.node_visit])
    scale = cost_scale(problem)  # > 1 only when a lateness cost has a fraction
    distance_cost = None
    if problem.objective == "distance" and problem.distance is not None:
        distance_cost = model.routing.RegisterTransitMatrix(
            (problem.distance[loc][:, loc] * scale).tolist()
        )
    evaluators: dict[str, tuple[int, int]] = {}
    time_evals: list[int] = []
    cost_evals: list[int] = []
    for shift in problem.shifts:
        if shift.profile not in evaluators:
            travel = problem.travel_of(shift)[loc][:, loc]
            time_eval = model.routing.RegisterTransitMatrix((travel + service).tolist())
            cost_eval = (
                distance_cost
                if distance_cost is not None
                else model.routing.RegisterTransitMatrix((travel * scale).tolist())
            )
            evaluators[shift.profile] = (time_eval, cost_eval)
        time_evals.append(evaluators[shift.profile][0])
        cost_evals.append(evaluators[shift.profile][1])
    return time_evals, cost_evals


def _column(values: list[int]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64).reshape(-1, 1)


def _add_time_dimension(model: _Model, time_evals: list[int]) -> None:
    problem = model.problem
    # A worker who is away from base with less shift left than the drive back (a visit ran
    # to the end of their shift) still gets home: their empty route may end then. Without
    # this one such shift made the whole network's model infeasible (seen on the heavy
    # simulated day); no visit can be added to it, since any visit ends later still.
    homes = [
        max(s.end, s.start + int(problem.travel_of(s)[s.start_location, s.end_location]))
        for s in problem.shifts
    ]
    horizon = max([horizon_of(problem), *homes])
    if lateness_as_cost(problem):
        # Any visit may start late: up to the end of the latest shift.
        horizon = max(horizon, max(homes))
    model.routing.AddDimensionWithVehicleTransits(
        time_evals,
        horizon,  # slack: waiting and breaks
        horizon,  # capacity: latest cumul
        False,  # fix_start_cumul_to_zero: shifts start at their own time
        "Time",
    )
    model.time_dim = model.routing.GetDimensionOrDie("Time")
    for vehicle, shift in enumerate(problem.shifts):
        model.time_dim.CumulVar(model.routing.Start(vehicle)).SetRange(shift.start, shift.end)
        model.time_dim.CumulVar(model.routing.End(vehicle)).SetRange(shift.start, homes[vehicle])


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
    """Count each visit's worker cost (:func:`routing.costs.worker_cost`: continuity missed,
    a silent worker asked again) in units of ``CONTINUITY_COST``; span cost charges them."""
    problem = model.problem
    if not any(
        v is not None and (v.preferred_workers or v.avoided_workers) for v in model.node_visit
    ):
        return
    by_vector: dict[tuple[int, ...], int] = {}
    evaluators: dict[str, int] = {}
    for shift in problem.shifts:
        if shift.worker_id in evaluators:
            continue
        units = tuple(
            0 if v is None else worker_cost(v, shift.worker_id) // CONTINUITY_COST
            for v in model.node_visit
        )
        if units not in by_vector:
            # A full matrix (charged on leaving the node), shared by workers with the same
            # units: the unary-vector form made feasible models report no solution in 9.15
            # when a capacity dimension was present (found by the property test).
            matrix = np.repeat(np.asarray(units, dtype=np.int64)[:, None], len(units), axis=1)
            by_vector[units] = model.routing.RegisterTransitMatrix(matrix.tolist())
        evaluators[shift.worker_id] = by_vector[units]
    most = (CONTINUITY_COST + AVOID_COST) // CONTINUITY_COST
    model.routing.AddDimensionWithVehicleTransits(
        [evaluators[s.worker_id] for s in problem.shifts],
        0,  # slack
        most * len(model.node_visit),  # capacity
        True,  # fix_start_cumul_to_zero
        "Continuity",
    )
    dim = model.routing.GetDimensionOrDie("Continuity")
    for vehicle in range(len(problem.shifts)):
        dim.SetSpanCostCoefficientForVehicle(CONTINUITY_COST, vehicle)


def _add_balance_dimension(model: _Model, time_evals: list[int]) -> None:
    """Soft cap each shift's work at the fair share so the load spreads across staff."""
    horizon = horizon_of(model.problem)
    model.routing.AddDimensionWithVehicleTransits(time_evals, 0, horizon * 4, True, "Work")
    dim = model.routing.GetDimensionOrDie("Work")
    total = sum(v.duration for v in model.node_visit if v is not None)
    fair = total // len(model.problem.shifts) + 1
    for vehicle in range(len(model.problem.shifts)):
        dim.SetCumulVarSoftUpperBound(model.routing.End(vehicle), fair, BALANCE_COST_PER_SECOND)


def _add_visit_rules(model: _Model, fixed: dict[str, str]) -> None:
    """Windows, allowed shifts, pins and drop penalties for each visit node."""
    problem, screening, routing = model.problem, model.screening, model.routing
    shift_index = {s.id: k for k, s in enumerate(problem.shifts)}
    horizon = horizon_of(problem)
    for visit_id, node in model.visit_node.items():
        visit = model.node_visit[node]
        assert visit is not None
        index = model.manager.NodeToIndex(node)
        cumul = model.time_dim.CumulVar(index)
        if visit.pinned_to is not None:
            vehicle = shift_index[visit.pinned_to]
            routing.VehicleVar(index).SetValues([-1, vehicle])  # -1: left out (see below)
            if visit.pinned_start is not None:
                cumul.SetValue(visit.pinned_start)
            else:
                # Kept on its worker, but still within its window: not before the agreed
                # start, and late only at the lateness cost (a worker running late must not
                # make the network unsolvable, so the deadline is soft here).
                shift = problem.shifts[vehicle]
                cumul.SetMin(max(shift.start, min(visit.earliest, shift.end - visit.duration)))
                model.time_dim.SetCumulVarSoftUpperBound(
                    index, visit.deadline, late_cost_per_second(problem, visit)
                )
            # Kept unless the worker's shift cannot hold all they accepted (see the penalty).
            routing.AddDisjunction([index], PINNED_DROP_PENALTY)
            continue
        allowed = list(screening.candidates[visit_id])
        if visit_id in fixed and shift_index.get(fixed[visit_id]) in allowed:
            allowed = [shift_index[fixed[visit_id]]]
        if len(allowed) < len(problem.shifts):
            # SetAllowedVehiclesForIndex's Python binding rejects lists in 9.15; -1 = dropped.
            routing.VehicleVar(index).SetValues([-1, *allowed])
        if visit_id in screening.late:
            latest = horizon if visit.late_limit is None else min(horizon, visit.late_limit)
            cumul.SetRange(visit.earliest, max(visit.earliest, latest))
            model.time_dim.SetCumulVarSoftUpperBound(
                index, visit.deadline, late_cost_per_second(problem, visit)
            )
        else:
            cumul.SetRange(visit.earliest, visit.deadline)
            margin = margin_start(problem, visit)
            if is_urgent(problem, visit):
                model.time_dim.SetCumulVarSoftUpperBound(
                    index, visit.earliest, URGENCY_COST_PER_SECOND
                )
            elif margin is not None and margin < visit.deadline:
                model.time_dim.SetCumulVarSoftUpperBound(index, margin, MARGIN_COST_PER_SECOND)
        routing.AddDisjunction([index], screening.penalties[visit_id])


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


def _add_links(model: _Model) -> None:
    """Linked visits (:mod:`routing.links`): both halves performed or neither, the workers
    different or the same as the link asks, and ``start(second) - start(first)`` within the
    gap. A dropped node's vehicle is -1, so the worker and gap rules hold only when active."""
    problem, routing, manager = model.problem, model.routing, model.manager
    if not problem.links:
        return
    solver = routing.solver()
    workers = sorted({s.worker_id for s in problem.shifts})
    one_each = len(workers) == len(problem.shifts)
    # worker number of vehicle v at position v + 1; position 0 (vehicle -1, dropped) is -1.
    worker_of = [-1] + [workers.index(s.worker_id) for s in problem.shifts]
    big = 2 * horizon_of(problem) + max(
        (max(abs(link.min_gap), abs(link.max_gap)) for link in problem.links), default=0
    ) + max(s.end for s in problem.shifts)
    for link in problem.links:
        node_a, node_b = model.visit_node.get(link.first), model.visit_node.get(link.second)
        if node_a is None or node_b is None:
            continue  # screened out together (routing.links.screen_links)
        a, b = manager.NodeToIndex(node_a), manager.NodeToIndex(node_b)
        active = routing.ActiveVar(a)
        solver.Add(active == routing.ActiveVar(b))
        if link.workers != "any":
            if one_each:
                who_a, who_b = routing.VehicleVar(a), routing.VehicleVar(b)
            else:
                who_a = solver.Element(worker_of, (routing.VehicleVar(a) + 1).Var())
                who_b = solver.Element(worker_of, (routing.VehicleVar(b) + 1).Var())
            if link.workers == "same":
                solver.Add(who_a == who_b)  # both dropped: -1 == -1
            else:
                solver.Add((who_a != who_b) >= active)
        gap = model.time_dim.CumulVar(b) - model.time_dim.CumulVar(a)
        solver.Add(gap + big - big * active >= link.min_gap)
        solver.Add(gap - big + big * active <= link.max_gap)


def _add_max_lateness(model: _Model) -> None:
    """Charge ``lateness.max_cost_per_second`` for each second of the plan's largest lateness.

    Method (a global span): a "MaxLate" dimension with zero transits and free slack, starting
    at 0, so its cumul never falls along a route; each visit's cumul is held at or above its
    lateness (start - deadline), so every route's end cumul is at least the largest lateness
    on it. The global span cost (largest end minus smallest start, the starts being 0) is then
    the largest lateness in the plan, and the finalizer minimises the end cumuls to it.
    """
    problem, routing = model.problem, model.routing
    if not lateness_as_cost(problem) or problem.lateness is None:
        return
    if max_late_cost_per_second(problem) <= 0 or not model.visit_node:
        return
    horizon = 1 + max(model.time_dim.CumulVar(i).Max() for i in range(routing.Size()))
    zero = routing.RegisterUnaryTransitVector([0] * len(model.node_visit))
    routing.AddDimension(zero, horizon, horizon, True, "MaxLate")
    dim = routing.GetDimensionOrDie("MaxLate")
    solver = routing.solver()
    for visit_id, node in model.visit_node.items():
        index = model.manager.NodeToIndex(node)
        deadline = problem.visit(visit_id).deadline
        solver.Add(dim.CumulVar(index) >= model.time_dim.CumulVar(index) - deadline)
    dim.SetGlobalSpanCostCoefficient(max_late_cost_per_second(problem))
    for vehicle in range(len(problem.shifts)):
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(vehicle)))


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
    left = [v for v in problem.visits if v.id in model.visit_node and v.id not in served]
    unassigned += model.screening.capacity_reasons([v.id for v in left if v.pinned_to is None])
    unassigned += [
        Unassigned(
            v.id,
            "accepted, but no longer fits in its worker's shift with everything else they "
            "accepted: they keep it; ask them whether they can still do it",
            "no_capacity",
        )
        for v in left
        if v.pinned_to is not None
    ]
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
    own_travel = problem.travel_of(shift)
    distance = problem.distance if problem.distance is not None else own_travel
    index = routing.Start(vehicle)
    departure = solution.Value(model.time_dim.CumulVar(index))
    previous, ready = shift.start_location, departure
    stops: list[Stop] = []
    travel_sum = distance_sum = 0
    while True:
        index = solution.Value(routing.NextVar(index))
        node = model.manager.IndexToNode(index)
        location = model.node_location[node]
        travel_sum += int(own_travel[previous, location])
        distance_sum += int(distance[previous, location])
        if routing.IsEnd(index):
            break
        visit = model.node_visit[node]
        assert visit is not None
        start = solution.Value(model.time_dim.CumulVar(index))
        gap = sum(b.end - b.start for b in breaks if ready <= b.start < start)
        arrival = min(start, ready + int(own_travel[previous, location]) + gap)
        stops.append(Stop(visit.id, arrival, start, start + visit.duration))
        previous, ready = location, start + visit.duration
    return_time = solution.Value(model.time_dim.CumulVar(index))
    route = Route(
        shift.id, shift.worker_id, tuple(stops), departure, return_time, breaks, travel_sum
    )
    return route, travel_sum, distance_sum

"""The OR-Tools model of a :class:`RoutingProblem`, and reading a solution back into a plan.

Built in the order of the OR-Tools samples: index manager, routing model, transit matrices
(registered in C++, never Python callbacks, so the search runs at C++ speed), dimensions
(time per travel profile, capacity, continuity, work balance), windows, allowed shifts, pins,
drop penalties, links, the largest-lateness charge, breaks and finalizers. How the model is
searched is :mod:`routing.search`; what callers use is :mod:`routing.solver`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp

from routing.costs import (
    BALANCE_COST_PER_SECOND,
    CONTINUITY_COST,
    MARGIN_COST_PER_SECOND,
    MAX_WORKER_COST,
    PINNED_DROP_PENALTY,
    URGENCY_COST_PER_SECOND,
    cost_scale,
    horizon_of,
    is_urgent,
    late_cost_per_second,
    lateness_as_cost,
    margin_start,
    max_late_cost_per_second,
    person_cost,
    skill_mix_cost,
)
from routing.screening import Screening
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


@dataclasses.dataclass
class Model:
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


def build_model(problem: RoutingProblem, screening: Screening, fixed: dict[str, str]) -> Model:
    """The whole model of ``problem``; ``fixed`` holds visits to a shift (visit id -> shift id)."""
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
    _add_spacing(model)
    _add_max_lateness(model)
    _add_breaks(model)
    _add_finalizers(model)
    model.routing.solver().ReSeed(problem.seed)
    return model


def _index_model(problem: RoutingProblem, screening: Screening) -> Model:
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
    return Model(
        problem, screening, manager, routing, None, node_visit, node_location, visit_node, {}
    )


def _register_matrices(model: Model) -> tuple[list[int], list[int]]:
    """Register the time (travel + service of the from-node) and cost matrices in C++, one
    time matrix per travel profile in use and one cost matrix per profile and skill set;
    returns each shift's (vehicle's) time and cost evaluator.

    Each worker travels by their own profile (``Shift.profile``: walking, cycling, public
    transport or the problem's own ``travel``), so the time dimension has per-vehicle transits.
    The skill-mix cost (:func:`routing.costs.skill_mix_cost`) is charged on leaving a visit,
    in the arc cost: it is alike for every worker of a skill set, so a few matrices carry it,
    where a dimension (as continuity has) cost the search moves on every problem with a
    nurse and a home care call (issue 21: the tri-borough day dropped more 2-hour visits).
    """
    problem = model.problem
    loc = model.node_location
    service = _column([0 if v is None else v.duration for v in model.node_visit])
    scale = cost_scale(problem)  # > 1 only when a lateness cost has a fraction
    distance = None
    if problem.objective == "distance" and problem.distance is not None:
        distance = problem.distance[loc][:, loc] * scale
    travel_by_profile: dict[str, npt.NDArray[np.int64]] = {}
    time_by_profile: dict[str, int] = {}
    cost_by_key: dict[tuple[str, tuple[int, ...]], int] = {}
    time_evals: list[int] = []
    cost_evals: list[int] = []
    for shift in problem.shifts:
        if shift.profile not in travel_by_profile:
            travel = problem.travel_of(shift)[loc][:, loc]
            travel_by_profile[shift.profile] = travel
            time_by_profile[shift.profile] = model.routing.RegisterTransitMatrix(
                (travel + service).tolist())
        mix = tuple(0 if v is None else skill_mix_cost(v, shift.worker_id)
                    for v in model.node_visit)
        key = ("" if distance is not None else shift.profile, mix)
        if key not in cost_by_key:
            base = distance if distance is not None else travel_by_profile[shift.profile] * scale
            cost = base + _column(list(mix)) if any(mix) else base
            cost_by_key[key] = model.routing.RegisterTransitMatrix(cost.tolist())
        time_evals.append(time_by_profile[shift.profile])
        cost_evals.append(cost_by_key[key])
    return time_evals, cost_evals


def _column(values: list[int]) -> npt.NDArray[np.int64]:
    return np.asarray(values, dtype=np.int64).reshape(-1, 1)


def _add_time_dimension(model: Model, time_evals: list[int]) -> None:
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


def _add_capacity_dimension(model: Model) -> None:
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


def _add_continuity_dimension(model: Model) -> None:
    """Count each visit's person cost (:func:`routing.costs.person_cost`: continuity missed,
    a silent worker asked again) in units of ``CONTINUITY_COST``; span cost charges them.
    (The skill-mix cost is in the arc cost: :func:`_register_matrices`.)"""
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
            0 if v is None else person_cost(v, shift.worker_id) // CONTINUITY_COST
            for v in model.node_visit
        )
        if units not in by_vector:
            # A full matrix (charged on leaving the node), shared by workers with the same
            # units: the unary-vector form made feasible models report no solution in 9.15
            # when a capacity dimension was present (found by the property test).
            matrix = np.repeat(np.asarray(units, dtype=np.int64)[:, None], len(units), axis=1)
            by_vector[units] = model.routing.RegisterTransitMatrix(matrix.tolist())
        evaluators[shift.worker_id] = by_vector[units]
    most = MAX_WORKER_COST // CONTINUITY_COST
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


def _add_balance_dimension(model: Model, time_evals: list[int]) -> None:
    """Soft cap each shift's work at the fair share so the load spreads across staff."""
    horizon = horizon_of(model.problem)
    fix_start_at_zero = True  # the SWIG binding takes no keywords
    model.routing.AddDimensionWithVehicleTransits(
        time_evals, 0, horizon * 4, fix_start_at_zero, "Work"
    )
    dim = model.routing.GetDimensionOrDie("Work")
    total = sum(v.duration for v in model.node_visit if v is not None)
    fair = total // len(model.problem.shifts) + 1
    for vehicle in range(len(model.problem.shifts)):
        dim.SetCumulVarSoftUpperBound(model.routing.End(vehicle), fair, BALANCE_COST_PER_SECOND)


def _add_visit_rules(model: Model, fixed: dict[str, str]) -> None:
    """Windows, allowed shifts, pins and drop penalties for each visit node."""
    problem, screening, routing = model.problem, model.screening, model.routing
    shift_index = {s.id: k for k, s in enumerate(problem.shifts)}
    horizon = horizon_of(problem)
    pinned_urgent: list[tuple[int, Visit]] = []
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
                if is_urgent(problem, visit):
                    # Still as early as it can be (H-245): the pull on the time dimension,
                    # the lateness on a dimension of its own (one soft bound per cumul).
                    model.time_dim.SetCumulVarSoftUpperBound(
                        index, visit.earliest, URGENCY_COST_PER_SECOND
                    )
                    pinned_urgent.append((index, visit))
                else:
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
    _add_pinned_lateness(model, pinned_urgent)


def _add_pinned_lateness(model: Model, pinned: list[tuple[int, Visit]]) -> None:
    """Charge the lateness of accepted 2-hour visits whose time cumul carries the urgency pull.

    OR-Tools allows one soft upper bound per cumul, and an accepted 2-hour visit needs two:
    the pull towards its earliest start (kept on the time dimension, where the search's
    filters and the cumul optimiser see it) and its lateness past the deadline. The lateness
    sits on a "PinnedLate" dimension with zero transits and free slack (so its cumul only
    rises along a route, as time does), each such visit's cumul held at or above its start
    and softly bounded at its deadline; the finalizer brings the cumuls down to the starts.
    Both costs rise with the start, so minimising one never works against the other.
    """
    if not pinned:
        return
    routing = model.routing
    horizon = 1 + max(model.time_dim.CumulVar(i).Max() for i in range(routing.Size()))
    zero = routing.RegisterUnaryTransitVector([0] * len(model.node_visit))
    routing.AddDimension(zero, horizon, horizon, False, "PinnedLate")  # False: free start
    dim = routing.GetDimensionOrDie("PinnedLate")
    solver = routing.solver()
    for index, visit in pinned:
        solver.Add(dim.CumulVar(index) >= model.time_dim.CumulVar(index))
        dim.SetCumulVarSoftUpperBound(
            index, visit.deadline, late_cost_per_second(model.problem, visit)
        )
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(index))


def _add_breaks(model: Model) -> None:
    """Breaks as fixed-duration intervals, as in the OR-Tools ``vrp_breaks`` sample."""
    solver = model.routing.solver()
    visit_transits = [
        _node_service(model, model.manager.IndexToNode(index))
        for index in range(model.routing.Size())
    ]
    optional = False  # a break is always taken (the SWIG binding takes no keywords)
    for vehicle, shift in enumerate(model.problem.shifts):
        intervals = [
            solver.FixedDurationIntervalVar(
                item.start_min, item.start_max, item.duration, optional, f"break {vehicle} {k}"
            )
            for k, item in enumerate(shift.breaks)
        ]
        if intervals:
            model.time_dim.SetBreakIntervalsOfVehicle(intervals, vehicle, visit_transits)
            model.breaks[vehicle] = intervals


def _add_links(model: Model) -> None:
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
    big = (
        2 * horizon_of(problem)
        + max((max(abs(link.min_gap), abs(link.max_gap)) for link in problem.links), default=0)
        + max(s.end for s in problem.shifts)
    )
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


def _add_spacing(model: Model) -> None:
    """One patient's calls kept apart (:class:`routing.types.Spacing`): when both of a pair
    are served, the later starts at least ``min_gap`` after the earlier; a call left out
    frees its pairs (not all-or-nothing, unlike a link)."""
    problem, routing, manager = model.problem, model.routing, model.manager
    if not problem.spacing:
        return
    solver = routing.solver()
    big = 2 * horizon_of(problem) + max(rule.min_gap for rule in problem.spacing)
    for rule in problem.spacing:
        for first, second in rule.pairs():
            node_a, node_b = model.visit_node.get(first), model.visit_node.get(second)
            if node_a is None or node_b is None:
                continue  # screened out: nothing to keep apart
            a, b = manager.NodeToIndex(node_a), manager.NodeToIndex(node_b)
            gap = model.time_dim.CumulVar(b) - model.time_dim.CumulVar(a)
            both = routing.ActiveVar(a) + routing.ActiveVar(b)
            solver.Add(gap + 2 * big - big * both >= rule.min_gap)


def _add_max_lateness(model: Model) -> None:
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
    routing.AddDimension(zero, horizon, horizon, True, "MaxLate")  # True: starts at 0
    dim = routing.GetDimensionOrDie("MaxLate")
    solver = routing.solver()
    for visit_id, node in model.visit_node.items():
        index = model.manager.NodeToIndex(node)
        deadline = problem.visit(visit_id).deadline
        solver.Add(dim.CumulVar(index) >= model.time_dim.CumulVar(index) - deadline)
    dim.SetGlobalSpanCostCoefficient(max_late_cost_per_second(problem))
    for vehicle in range(len(problem.shifts)):
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(vehicle)))


def _node_service(model: Model, node: int) -> int:
    visit = model.node_visit[node]
    return 0 if visit is None else visit.duration


def _add_finalizers(model: Model) -> None:
    """Serve every visit as early as its route allows, and return to base early."""
    routing = model.routing
    for node in model.visit_node.values():
        index = model.manager.NodeToIndex(node)
        routing.AddVariableMinimizedByFinalizer(model.time_dim.CumulVar(index))
    for vehicle in range(len(model.problem.shifts)):
        routing.AddVariableMinimizedByFinalizer(model.time_dim.CumulVar(routing.End(vehicle)))


def warm_routes(model: Model, plan: RoutingPlan) -> list[list[int]]:
    """``plan``'s routes as node indices per vehicle, for ``ReadAssignmentFromRoutes``.

    A stop its shift may no longer serve (the worker declined it since, a pin moved it, a
    shift changed) is left out, to be placed again by the search: one such stop made OR-Tools
    refuse the whole restore ("Vehicle N is not allowed at index M"), and the search started
    cold, losing the plan it was meant to improve (seen in simulated days at high load)."""
    shift_index = {s.id: k for k, s in enumerate(model.problem.shifts)}
    routes: list[list[int]] = [[] for _ in model.problem.shifts]
    for route in plan.routes:
        vehicle = shift_index.get(route.shift_id)
        if vehicle is None:
            continue
        indices = (model.manager.NodeToIndex(model.visit_node[stop.visit_id])
                   for stop in route.stops if stop.visit_id in model.visit_node)
        routes[vehicle] = [index for index in indices
                           if model.routing.VehicleVar(index).Contains(vehicle)]
    return routes


# --------------------------------------------------------------------------- read-out


def read_plan(model: Model, solution: pywrapcp.Assignment, seconds: float) -> RoutingPlan:
    """The plan a solution of ``model`` describes, with dropped visits reported and why."""
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


def _read_breaks(model: Model, solution: pywrapcp.Assignment) -> dict[int, tuple[PlacedBreak, ...]]:
    placed: dict[int, tuple[PlacedBreak, ...]] = {}
    for vehicle, intervals in model.breaks.items():
        found = [
            PlacedBreak(solution.StartValue(iv), solution.StartValue(iv) + iv.DurationMin())
            for iv in intervals
        ]
        placed[vehicle] = tuple(sorted(found, key=lambda b: b.start))
    return placed


def _read_route(
    model: Model,
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

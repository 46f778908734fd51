"""Ruin and recreate driven through OR-Tools, for distance-only problems with time windows.

Guided local search on Solomon-style problems finds its best plan early and then stalls
(docs/adr/0004-search-tuning.md). This leaves the basin the way SISR does (Christiaens and
Vanden Berghe, "Slack induction by string removals", 2020): from the current plan remove a few
strings of consecutive visits from routes close to a random seed visit (sometimes a whole
short route instead), restore the rest with ``ReadAssignmentFromRoutes`` (the removed visits
unperformed), and let a greedy descent put them back and improve (its insertion moves bring
an unperformed visit in; the drop penalties make every insertion worth it). The result
replaces the current plan if it is better, or by a simulated-annealing draw whose temperature
falls over the phase; the best plan seen is kept.

Each step searches only a sub-model: the vehicles it ruined, those holding the visits
nearest the removed ones and one empty vehicle (``LOCAL_STEPS``; ADR 0004, sixth round).
A descent over the whole plan cost 60-100 ms at 100 customers and 240-410 ms at 200, most
of it re-checking routes the ruin never touched; the sub-model makes 6-8 times the steps in
the same time, and that is what brought the search within 2 % of PyVRP on instances it was
not tuned on. With ``LOCAL_STEPS`` off, one whole model is built and closed once and each
step is one ``SolveFromAssignmentWithParameters`` on it (kept for comparison: the
benchmark's "before"). The choices are a pure function of ``problem.seed`` and what each
step returns, so the loop is as deterministic as the descents it runs (not at all under a
wall-clock limit).
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from typing import TypeVar

import numpy as np
from ortools.constraint_solver import pywrapcp

from routing.model import Model, build_model, read_plan, warm_routes
from routing.screening import Screening
from routing.types import RoutingPlan, RoutingProblem

#: Mean number of visits a step removes (SISR's c-bar), and at most this share of them.
AVG_REMOVED = 10
MAX_REMOVED_SHARE = 0.15
#: Longest string removed from one route (SISR's L-max).
MAX_STRING = 10
#: Chance that a step removes a whole route (the shortest of a few near the seed) instead of
#: strings: the plan then has to do with one vehicle fewer, or rebuild it better.
ROUTE_RUIN_CHANCE = 0.1
#: Simulated annealing temperature at the start and end of the phase, as shares of the
#: starting plan's objective (a step 1 % worse is accepted about a third of the time at the
#: start, almost never at the end). With hundreds of local steps a phase (``LOCAL_STEPS``),
#: 1 % to 0.05 % beat the 0.2 % to 0.01 % that suited 10-60 whole-model steps (tuning set
#: at 10 s: +0.60 and +0.73 % to PyVRP in two runs against +0.94 and +0.86 %; ADR 0004,
#: sixth round).
START_TEMPERATURE = 0.01
END_TEMPERATURE = 0.0005
#: The phase stops after this many steps in a row that could not be restored or solved.
MAX_FAILED_STEPS = 5
#: A step with less time than this is not started.
MIN_STEP_SECONDS = 0.02
#: Each step searches a sub-model of the routes it ruined, the routes nearest the removed
#: visits up to ``LOCAL_ROUTES`` in all, and one empty shift, instead of the whole plan
#: (``LOCAL_STEPS``); with routes independent of each other (distance-only, windows,
#: capacity) that is the same move at a fraction of the cost (ADR 0004, sixth round).
LOCAL_STEPS = True
LOCAL_ROUTES = 4


#: What a route holds in :func:`ruin`: node indices (whole-model steps) or visit ids (local).
Node = TypeVar("Node", int, str)


@dataclasses.dataclass
class RuinStats:
    """What a phase did (for benchmarks and tests). ``best_cost`` is the best plan's cost as
    the local steps added it up (None for whole-model steps): the whole model's cost of the
    plan returned must be the same."""

    steps: int = 0
    accepted: int = 0
    improved: int = 0
    failed: int = 0
    best_cost: int | None = None


@dataclasses.dataclass
class _Annealing:
    """The phase's clock and acceptance, shared by whole-model and local steps: a step's plan
    replaces the current one if cheaper, or by a simulated-annealing draw whose temperature
    falls from ``START_TEMPERATURE`` to ``END_TEMPERATURE`` of the start's objective over
    ``seconds``."""

    seconds: float
    objective: int
    started: float = dataclasses.field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)

    def accepts(self, cost: int, current: int, rng: random.Random) -> bool:
        hot = max(1.0, START_TEMPERATURE * self.objective)
        cold = max(0.5, END_TEMPERATURE * self.objective)
        progress = min(1.0, (time.perf_counter() - self.started) / self.seconds)
        temperature = hot * (cold / hot) ** progress
        return cost < current or rng.random() < math.exp((current - cost) / temperature)


def ruin_and_recreate(
    problem: RoutingProblem,
    screening: Screening,
    start: RoutingPlan,
    seconds: float,
    params: pywrapcp.RoutingSearchParameters,
    stats: RuinStats | None = None,
    steps: int | None = None,
) -> RoutingPlan:
    """Improve ``start`` by ruin and recreate for ``seconds`` (and at most ``steps`` steps);
    never returns a worse plan.

    ``params`` are the descent's search parameters (a greedy descent; its time limit is set
    per step to the time left). The plan returned is ``start`` itself unless a step found a
    better objective.
    """
    if LOCAL_STEPS:
        return _local_ruin_and_recreate(problem, screening, start, seconds, params, stats, steps)
    clock = _Annealing(seconds, start.objective)
    stats = stats if stats is not None else RuinStats()
    model = build_model(problem, screening, {})
    routing = model.routing
    routing.CloseModelWithParameters(params)
    rng = random.Random(problem.seed)
    near = _neighbours(model)
    current = warm_routes(model, start)
    current_cost = best_cost = start.objective
    best: RoutingPlan = start
    failed_in_a_row = 0
    while failed_in_a_row < MAX_FAILED_STEPS and (steps is None or stats.steps < steps):
        left = clock.left()
        if left < MIN_STEP_SECONDS:
            break
        ruined = ruin(current, near, rng)
        initial = routing.ReadAssignmentFromRoutes(ruined, True)  # removed visits inactive
        stats.steps += 1
        solution = None
        if initial is not None:
            params.time_limit.FromMilliseconds(max(1, int(left * 1000)))
            solution = routing.SolveFromAssignmentWithParameters(initial, params)
        if solution is None:
            stats.failed += 1
            failed_in_a_row += 1
            continue
        failed_in_a_row = 0
        cost = solution.ObjectiveValue()
        if clock.accepts(cost, current_cost, rng):
            stats.accepted += 1
            current, current_cost = _routes(routing, solution), cost
        if cost < best_cost:
            stats.improved += 1
            best_cost = cost
            best = read_plan(model, solution, 0.0)
    if best is start:
        return start
    spent = start.seconds + time.perf_counter() - clock.started
    return dataclasses.replace(best, seconds=round(spent, 3))


def _local_ruin_and_recreate(
    problem: RoutingProblem,
    screening: Screening,
    start: RoutingPlan,
    seconds: float,
    params: pywrapcp.RoutingSearchParameters,
    stats: RuinStats | None,
    steps: int | None,
) -> RoutingPlan:
    """:func:`ruin_and_recreate` with each step's descent on a sub-model (``LOCAL_STEPS``).

    Why: a descent over the whole plan costs 60-100 ms at 100 customers and 240-410 ms at
    200 (ADR 0004, fifth round), and most of it re-checks routes the ruin never touched.
    Here a step builds a small model of the routes it ruined, the routes nearest the removed
    visits (``LOCAL_ROUTES`` in all) and one empty shift, and descends on that. Routes of a
    distance-only problem with windows are independent, so the plan's cost changes by the
    sub-model's cost minus what those routes cost before. The plan returned is read back and
    costed by the whole model, and returned only if that cost beats ``start``'s.
    """
    clock = _Annealing(seconds, start.objective)
    stats = stats if stats is not None else RuinStats()
    full = build_model(problem, screening, {})
    full.routing.CloseModelWithParameters(params)
    shift_index = {shift.id: k for k, shift in enumerate(problem.shifts)}
    current: list[list[str]] = [[] for _ in problem.shifts]
    for route in start.routes:
        vehicle = shift_index.get(route.shift_id)
        if vehicle is not None:
            current[vehicle] = [s.visit_id for s in route.stops if s.visit_id in full.visit_node]
    rng = random.Random(problem.seed)
    near = _visit_neighbours(full)
    current_cost = best_cost = start.objective
    best = [list(route) for route in current]
    failed_in_a_row = 0
    while failed_in_a_row < MAX_FAILED_STEPS and (steps is None or stats.steps < steps):
        left = clock.left()
        if left < MIN_STEP_SECONDS:
            break
        ruined = ruin(current, near, rng)
        stats.steps += 1
        chosen = _local_vehicles(current, ruined, near)
        found = _recreate(problem, screening, chosen, current, ruined, params, left)
        if found is None:
            stats.failed += 1
            failed_in_a_row += 1
            continue
        failed_in_a_row = 0
        routes, change = found
        cost = current_cost + change
        if clock.accepts(cost, current_cost, rng):
            stats.accepted += 1
            for vehicle, visits in zip(chosen, routes, strict=True):
                current[vehicle] = visits
            current_cost = cost
        if cost < best_cost:
            stats.improved += 1
            best_cost = cost
            best = [list(route) for route in current]
    stats.best_cost = best_cost
    if best_cost >= start.objective:
        return start
    plan = _read_back(full, best, params)
    if plan is None or plan.objective >= start.objective:
        return start
    spent = start.seconds + time.perf_counter() - clock.started
    return dataclasses.replace(plan, seconds=round(spent, 3))


def _local_vehicles(
    routes: list[list[str]], ruined: list[list[str]], near: dict[str, list[str]]
) -> list[int]:
    """The vehicles a step searches: those it ruined, then those holding the visits nearest
    the removed ones (up to ``LOCAL_ROUTES``), then one empty vehicle if there is one."""
    chosen = [k for k, (a, b) in enumerate(zip(routes, ruined, strict=True)) if len(a) != len(b)]
    removed = {v for route in routes for v in route} - {v for route in ruined for v in route}
    where = {v: k for k, route in enumerate(routes) for v in route}
    for rank in range(len(next(iter(near.values()), []))):
        if len(chosen) >= LOCAL_ROUTES:
            break
        for visit in sorted(removed):
            other = near[visit][rank] if rank < len(near[visit]) else None
            k = where.get(other) if other is not None else None
            if k is not None and k not in chosen and len(chosen) < LOCAL_ROUTES:
                chosen.append(k)
    empty = next((k for k, route in enumerate(routes) if not route), None)
    if empty is not None:
        chosen.append(empty)
    return chosen


def _recreate(
    problem: RoutingProblem,
    screening: Screening,
    chosen: list[int],
    routes: list[list[str]],
    ruined: list[list[str]],
    params: pywrapcp.RoutingSearchParameters,
    seconds: float,
) -> tuple[list[list[str]], int] | None:
    """Put the removed visits back into the ``chosen`` vehicles' ruined routes by a descent
    on a model of those vehicles and their visits only: their new routes and how much the
    plan's cost changes, or None when the descent failed or left a visit out.

    The change is the sub-model's cost of the new routes minus its cost of the routes as they
    were (the routes restored, one solution), so whatever the model charges (arcs, windows
    served late, continuity) is counted as the whole model would count it.
    """
    visits = [v for k in chosen for v in routes[k]]
    sub_problem = dataclasses.replace(
        problem,
        visits=tuple(problem.visit(v) for v in visits),
        shifts=tuple(problem.shifts[k] for k in chosen),
    )
    position = {k: n for n, k in enumerate(chosen)}
    sub_screening = Screening(
        candidates={
            v: tuple(position[k] for k in screening.candidates[v] if k in position)
            for v in visits
        },
        late=frozenset(v for v in visits if v in screening.late),
        unassigned=(),
        penalties={v: screening.penalties[v] for v in visits},
    )
    model = build_model(sub_problem, sub_screening, {})
    model.routing.CloseModelWithParameters(params)
    # The ruined routes are read before the routes as they were are costed: read after that
    # search, a restore failed on a model with a continuity dimension (found by the test).
    initial = model.routing.ReadAssignmentFromRoutes(_indices(model, [ruined[k] for k in chosen]),
                                                     True)
    before = _restored(model, [routes[k] for k in chosen], params, seconds)
    if before is None or initial is None:
        return None
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    solution = model.routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        return None
    found = [
        [model.node_visit[model.manager.IndexToNode(i)].id for i in route]
        for route in _routes(model.routing, solution)
    ]
    if sum(map(len, found)) < len(visits):
        return None  # a visit left out: never worth its penalty here
    return found, solution.ObjectiveValue() - before.ObjectiveValue()


def _indices(model: Model, routes: list[list[str]]) -> list[list[int]]:
    return [[model.manager.NodeToIndex(model.visit_node[v]) for v in route] for route in routes]


def _restored(
    model: Model,
    routes: list[list[str]],
    params: pywrapcp.RoutingSearchParameters,
    seconds: float,
) -> pywrapcp.Assignment | None:
    """``routes`` (visit ids per vehicle) as a solution of ``model``, timed and costed by it:
    the routes restored and the search stopped at its first solution (them)."""
    initial = model.routing.ReadAssignmentFromRoutes(_indices(model, routes), True)
    if initial is None:
        return None
    limit = params.solution_limit
    params.solution_limit = 1
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    try:
        solution: pywrapcp.Assignment | None = model.routing.SolveFromAssignmentWithParameters(
            initial, params)
    finally:
        params.solution_limit = limit
    return solution


def _read_back(
    model: Model, routes: list[list[str]], params: pywrapcp.RoutingSearchParameters
) -> RoutingPlan | None:
    """``routes`` (visit ids per vehicle) as a plan of the whole ``model``."""
    solution = _restored(model, routes, params, 60.0)
    return None if solution is None else read_plan(model, solution, 0.0)


def ruin(
    routes: list[list[Node]], near: dict[Node, list[Node]], rng: random.Random
) -> list[list[Node]]:
    """``routes`` (node indices or visit ids per vehicle) with some visits removed,
    SISR-style: strings of consecutive visits from the routes nearest a random seed visit,
    or a whole short route."""
    where = {node: k for k, route in enumerate(routes) for node in route}
    if not where:
        return [list(route) for route in routes]
    seed: Node = rng.choice(sorted(where))
    used = [k for k, route in enumerate(routes) if route]
    removed: set[Node] = set()
    if len(used) > 1 and rng.random() < ROUTE_RUIN_CHANCE:
        close = []
        for node in (seed, *near.get(seed, ())):
            if node in where and where[node] not in close:
                close.append(where[node])
            if len(close) == 3:
                break
        removed.update(routes[min(close, key=lambda k: len(routes[k]))])
    else:
        total = len(where)
        mean_length = total / len(used)
        longest = min(MAX_STRING, mean_length)
        strings_max = 4 * AVG_REMOVED / (1 + longest) - 1
        strings = int(rng.uniform(1, max(1.0, strings_max) + 1))
        target = min(max(1, int(MAX_REMOVED_SHARE * total)), AVG_REMOVED * 2)
        done: set[int] = set()
        for node in (seed, *near.get(seed, ())):
            if len(done) >= strings or len(removed) >= target:
                break
            if node not in where or node in removed or where[node] in done:
                continue
            k = where[node]
            route = routes[k]
            length = int(rng.uniform(1, min(longest, len(route)) + 1))
            at = route.index(node)
            first = rng.randint(max(0, at - length + 1), min(at, len(route) - length))
            removed.update(route[first:first + length])
            done.add(k)
    return [[node for node in route if node not in removed] for route in routes]


def _neighbours(model: Model, count: int = 40) -> dict[int, list[int]]:
    """For every visit node (as a routing index), the nearest other visit nodes by distance."""
    problem = model.problem
    matrix = problem.distance if problem.distance is not None else problem.travel
    nodes = list(model.visit_node.values())
    indices = [model.manager.NodeToIndex(node) for node in nodes]
    locations = np.array([model.node_location[node] for node in nodes])
    if not nodes:
        return {}
    sub = np.asarray(matrix)[np.ix_(locations, locations)]
    order = np.argsort(sub, axis=1, kind="stable")
    return {
        indices[i]: [indices[j] for j in order[i] if j != i][:count] for i in range(len(nodes))
    }


def _visit_neighbours(model: Model, count: int = 40) -> dict[str, list[str]]:
    """For every visit (by id), the nearest other visits by distance."""
    by_index = {
        model.manager.NodeToIndex(node): visit for visit, node in model.visit_node.items()
    }
    return {
        by_index[index]: [by_index[other] for other in others]
        for index, others in _neighbours(model, count).items()
    }


def _routes(routing: pywrapcp.RoutingModel, solution: pywrapcp.Assignment) -> list[list[int]]:
    found = []
    for vehicle in range(routing.vehicles()):
        index = solution.Value(routing.NextVar(routing.Start(vehicle)))
        route = []
        while not routing.IsEnd(index):
            route.append(index)
            index = solution.Value(routing.NextVar(index))
        found.append(route)
    return found

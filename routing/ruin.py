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

One model is built and closed once for the whole phase; each step is one
``SolveFromAssignmentWithParameters`` with the time that is left as its limit. The choices
are a pure function of ``problem.seed`` and what each step returns, so the loop is as
deterministic as the descents it runs (not at all under a wall-clock limit).
"""

from __future__ import annotations

import dataclasses
import math
import random
import time

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
#: starting plan's objective (a step 0.2 % worse is accepted about a third of the time at
#: the start, almost never at the end).
START_TEMPERATURE = 0.002
END_TEMPERATURE = 0.0001
#: The phase stops after this many steps in a row that could not be restored or solved.
MAX_FAILED_STEPS = 5
#: A step with less time than this is not started.
MIN_STEP_SECONDS = 0.02


@dataclasses.dataclass
class RuinStats:
    """What a phase did (for benchmarks and tests)."""

    steps: int = 0
    accepted: int = 0
    improved: int = 0
    failed: int = 0


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
    started = time.perf_counter()
    stats = stats if stats is not None else RuinStats()
    model = build_model(problem, screening, {})
    routing = model.routing
    routing.CloseModelWithParameters(params)
    rng = random.Random(problem.seed)
    near = _neighbours(model)
    current = warm_routes(model, start)
    current_cost = best_cost = start.objective
    best: RoutingPlan = start
    hot = max(1.0, START_TEMPERATURE * start.objective)
    cold = max(0.5, END_TEMPERATURE * start.objective)
    failed_in_a_row = 0
    while failed_in_a_row < MAX_FAILED_STEPS and (steps is None or stats.steps < steps):
        left = seconds - (time.perf_counter() - started)
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
        progress = min(1.0, (time.perf_counter() - started) / seconds)
        temperature = hot * (cold / hot) ** progress
        if cost < current_cost or rng.random() < math.exp((current_cost - cost) / temperature):
            stats.accepted += 1
            current, current_cost = _routes(routing, solution), cost
        if cost < best_cost:
            stats.improved += 1
            best_cost = cost
            best = read_plan(model, solution, 0.0)
    if best is start:
        return start
    spent = start.seconds + time.perf_counter() - started
    return dataclasses.replace(best, seconds=round(spent, 3))


def ruin(
    routes: list[list[int]], near: dict[int, list[int]], rng: random.Random
) -> list[list[int]]:
    """``routes`` (node indices per vehicle) with some visits removed, SISR-style: strings of
    consecutive visits from the routes nearest a random seed visit, or a whole short route."""
    where = {node: k for k, route in enumerate(routes) for node in route}
    if not where:
        return [list(route) for route in routes]
    seed = rng.choice(sorted(where))
    used = [k for k, route in enumerate(routes) if route]
    removed: set[int] = set()
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

"""Linked visits against an exact CP-SAT model on tiny instances, and the checker on larger
ones (issue 15; run on demand, not in CI).

    .venv/bin/python benchmarks/linked_bench.py --small 10 --large 10:30,40:50 --seconds 5

Instances follow the published home-care benchmark with interdependent services: patients
on a square (travel time = distance, seconds), some needing a double-handed visit (two carers,
gap 0..0) or two visits with a gap (different carers, 15-45 minutes apart), time windows with
lateness as a cost (``cost_per_second`` 1, ``max_cost_per_second`` 1) and the distance
objective, so the cost is distance + total lateness + largest lateness, as scored there.

Small instances (5-7 patients, 2-3 carers) are also solved by an exact CP-SAT model (one
circuit per carer, start times, lateness, links); the table gives our cost, the optimum and
the gap. Larger ones report the checker's verdict, lateness and time.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

import numpy as np
from ortools.sat.python import cp_model

from routing.checker import check_plan, lateness_of
from routing.solver import solve
from routing.types import Lateness, Link, RoutingPlan, RoutingProblem, Shift, Visit

SIDE = 3600  # seconds across the square
DAY = 12 * 3600


def instance(patients: int, carers: int, seed: int) -> RoutingProblem:
    """A reproducible instance: about a third of patients need two linked visits."""
    rng = random.Random(seed)
    points = [(SIDE / 2, SIDE / 2)] + [
        (rng.uniform(0, SIDE), rng.uniform(0, SIDE)) for _ in range(patients)
    ]
    travel = np.array([[math.ceil(math.dist(a, b)) for b in points] for a in points],
                      dtype=np.int64)
    visits: list[Visit] = []
    links: list[Link] = []
    for k in range(patients):
        earliest = rng.randrange(0, DAY // 2, 300)
        deadline = earliest + rng.choice([1800, 3600, 7200])
        duration = rng.choice([900, 1800, 2700])
        kind = rng.random()
        visits.append(Visit(f"p{k}a", k + 1, duration, earliest, deadline))
        if kind < 0.2:
            visits.append(Visit(f"p{k}b", k + 1, duration, earliest, deadline))
            links.append(Link(f"p{k}a", f"p{k}b", 0, 0, "different"))
        elif kind < 0.35:
            visits.append(Visit(f"p{k}b", k + 1, 900, earliest, deadline + 3600))
            links.append(Link(f"p{k}a", f"p{k}b", 900, 2700, "different"))
    shifts = [Shift(f"s{j}", f"w{j}", 0, 0, 0, DAY) for j in range(carers)]
    return RoutingProblem(
        tuple(visits), tuple(shifts), travel, late_policy="serve_late", objective="distance",
        distance=travel, links=tuple(links), lateness=Lateness(1, 1), seed=seed,
    )


def cost(problem: RoutingProblem, plan: RoutingPlan) -> int:
    """Distance + total lateness + largest lateness (the benchmark's score, unweighted)."""
    total, largest = lateness_of(problem, plan)
    return round(plan.distance_total) + total + largest


def exact(problem: RoutingProblem, seconds: float) -> tuple[int, bool]:
    """CP-SAT optimum of the same problem (every visit served): (cost, proven optimal)."""
    model = cp_model.CpModel()
    n = len(problem.visits)
    nodes = range(n + 1)  # 0 = base
    loc = [0] + [v.location for v in problem.visits]
    dur = [0] + [v.duration for v in problem.visits]
    start = [model.new_int_var(0, DAY, f"t{i}") for i in nodes]
    late = [model.new_int_var(0, DAY, f"l{i}") for i in nodes]
    largest = model.new_int_var(0, DAY, "max")
    on = {}
    arcs_cost = []
    for k in range(len(problem.shifts)):
        arcs = []
        for i in nodes:
            on[k, i] = model.new_bool_var(f"y{k},{i}")
            arcs.append((i, i, ~on[k, i]))  # i not on k's tour (0: k unused)
        for i in nodes:
            for j in nodes:
                if i == j:
                    continue
                x = model.new_bool_var(f"x{k},{i},{j}")
                arcs.append((i, j, x))
                arcs_cost.append(int(problem.travel[loc[i], loc[j]]) * x)
                if j:
                    base_ready = 0 if i == 0 else None
                    if base_ready is None:
                        model.add(start[j] >= start[i] + dur[i] + int(
                            problem.travel[loc[i], loc[j]])).only_enforce_if(x)
                    else:
                        model.add(start[j] >= int(problem.travel[0, loc[j]])).only_enforce_if(x)
        for i in range(1, n + 1):
            model.add_implication(on[k, i], on[k, 0])
        model.add_circuit(arcs)
    for i in range(1, n + 1):
        model.add_exactly_one(on[k, i] for k in range(len(problem.shifts)))
        visit = problem.visits[i - 1]
        model.add(start[i] >= visit.earliest)
        model.add(late[i] >= start[i] - visit.deadline)
        model.add(largest >= late[i])
    index = {v.id: i + 1 for i, v in enumerate(problem.visits)}
    for link in problem.links:
        a, b = index[link.first], index[link.second]
        model.add(start[b] - start[a] >= link.min_gap)
        model.add(start[b] - start[a] <= link.max_gap)
        for k in range(len(problem.shifts)):
            if link.workers == "different":
                model.add(on[k, a] + on[k, b] <= 1)
            elif link.workers == "same":
                model.add(on[k, a] == on[k, b])
    model.minimize(sum(arcs_cost) + sum(late) + largest)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return -1, False
    return round(solver.objective_value), status == cp_model.OPTIMAL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=10, help="tiny instances vs CP-SAT")
    parser.add_argument("--large", default="10:3,20:5,40:8", help="patients:carers,...")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--exact-seconds", type=float, default=60.0)
    args = parser.parse_args()
    gaps = []
    print("small: seed patients carers visits links  ours  optimum  gap%  proven  legal")
    for seed in range(args.small):
        patients, carers = 5 + seed % 3, 2 + seed % 2
        problem = instance(patients, carers, seed)
        plan = solve(problem, seconds=args.seconds, workers=2)
        legal = check_plan(problem, plan) == [] and not plan.unassigned
        ours = cost(problem, plan)
        best, proven = exact(problem, args.exact_seconds)
        gap = 100.0 * (ours - best) / best if best > 0 else 0.0
        gaps.append(gap)
        print(f"  {seed:4d} {patients:8d} {carers:6d} {len(problem.visits):6d} "
              f"{len(problem.links):5d} {ours:6d} {best:8d} {gap:5.2f}  {proven!s:6}  {legal}")
    if gaps:
        print(f"mean gap {statistics.mean(gaps):.2f} %, max {max(gaps):.2f} %")
    print("large: patients carers visits links  legal  unassigned  late  max_late_min  cost  s")
    for item in filter(None, args.large.split(",")):
        patients, carers = (int(x) for x in item.split(":"))
        problem = instance(patients, carers, 100 + patients)
        started = time.perf_counter()
        plan = solve(problem, seconds=args.seconds, workers=2)
        elapsed = time.perf_counter() - started
        total, largest = lateness_of(problem, plan)
        print(f"  {patients:8d} {carers:6d} {len(problem.visits):6d} {len(problem.links):5d} "
              f"{check_plan(problem, plan) == []!s:6} {len(plan.unassigned):10d} "
              f"{len(plan.late):5d} {largest / 60:12.1f} {cost(problem, plan):6d} {elapsed:5.1f}")


if __name__ == "__main__":
    main()

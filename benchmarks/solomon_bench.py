"""Solomon benchmark: our OR-Tools solver against PyVRP and the best-known solutions.

Run on demand (not in CI)::

    .venv/bin/python benchmarks/solomon_bench.py --seconds 10

Both solvers get the same instances, the same wall-clock budget and the same integer
scaling (x1000, travel rounded up); distances are recomputed exactly from coordinates.
Every one of our plans is checked by :func:`routing.checker.check_plan`.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

from routing.checker import check_plan
from routing.solomon import SolomonInstance, plan_distance, read_solomon, to_problem
from routing.solver import solve

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "solomon"
INSTANCES = ("C101", "C201", "R101", "R201", "RC101", "RC201")


def pyvrp_distance(instance: SolomonInstance, seconds: float, seed: int) -> tuple[float, int, bool]:
    """Solve with PyVRP on the same integer data; return (real distance, routes, feasible)."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    problem = to_problem(instance)
    model = Model()
    points = (instance.depot, *instance.customers)
    locations = [model.add_location(x=int(p.x), y=int(p.y)) for p in points]
    depot = model.add_depot(
        locations[0], tw_early=problem.shifts[0].start, tw_late=problem.shifts[0].end
    )
    model.add_vehicle_type(
        num_available=len(problem.shifts),
        capacity=instance.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=problem.shifts[0].start,
        tw_late=problem.shifts[0].end,
    )
    for visit in problem.visits:
        model.add_client(
            locations[visit.location],
            delivery=visit.demand,
            service_duration=visit.duration,
            tw_early=visit.earliest,
            tw_late=visit.deadline,
        )
    assert problem.distance is not None
    for a, frm in enumerate(locations):
        for b, to in enumerate(locations):
            model.add_edge(
                frm, to, distance=int(problem.distance[a, b]), duration=int(problem.travel[a, b])
            )
    result = model.solve(stop=MaxRuntime(seconds), seed=seed, display=False)
    routes = [[int(a.idx) + 1 for a in route if a.is_client()] for route in result.best.routes()]
    total = 0.0
    for route in routes:  # activity idx counts clients; location = idx + 1
        path = [0, *route, 0]
        total += sum(instance.euclidean(a, b) for a, b in zip(path, path[1:], strict=False))
    check = result.best.distance() / 1000
    assert abs(total - check) < 1.0, (total, check)
    return total, len(routes), result.is_feasible()


def bks() -> dict[str, tuple[int, float]]:
    with (DATA / "bks.csv").open(newline="") as handle:
        return {
            row["instance"]: (int(row["vehicles"]), float(row["distance"]))
            for row in csv.DictReader(handle)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--instances", nargs="*", default=list(INSTANCES))
    parser.add_argument("--no-pyvrp", action="store_true")
    args = parser.parse_args()
    best = bks()
    header = (
        f"{'instance':8} {'ours':>9} {'veh':>4} {'pyvrp':>9} {'veh':>4} {'gap%':>6} "
        f"{'bks':>9} {'vs bks%':>7} {'feasible':>8} {'wall s':>6}"
    )
    print(header)
    gaps: list[float] = []
    for name in args.instances:
        instance = read_solomon(DATA / f"{name}.txt")
        problem = to_problem(instance)
        started = time.perf_counter()
        plan = solve(problem, seconds=args.seconds, workers=args.workers)
        wall = time.perf_counter() - started
        ours = plan_distance(instance, plan)
        ok = not check_plan(problem, plan) and not plan.unassigned
        theirs, their_routes = float("nan"), 0
        if not args.no_pyvrp:
            theirs, their_routes, _ = pyvrp_distance(instance, args.seconds, problem.seed)
            gaps.append(100 * (ours - theirs) / theirs)
        ref = best.get(name, (0, float("nan")))[1]
        gap = 100 * (ours - theirs) / theirs
        print(
            f"{name:8} {ours:9.2f} {plan.vehicles_used:4d} {theirs:9.2f} {their_routes:4d} "
            f"{gap:6.2f} {ref:9.2f} {100 * (ours - ref) / ref:7.2f} {str(ok):>8} {wall:6.1f}"
        )
    if gaps:
        print(f"mean gap to PyVRP: {statistics.mean(gaps):.2f} %")


if __name__ == "__main__":
    main()

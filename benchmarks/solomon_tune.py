"""Compare search variants on the Solomon tuning set, one search each, in the same run as PyVRP.

Run on demand (ADR 0004): settings are chosen here on ``--set tuning`` only; the held-back set
is then judged once with :mod:`benchmarks.solomon_bench`::

    nice -n 10 .venv/bin/python benchmarks/solomon_tune.py --seconds 5 \
        --variants p05,l05,p10,l10 --csv /tmp/tune.csv

Each variant is one search (one CPU, like PyVRP single-threaded). A variant is a first-solution
strategy (``p`` parallel or ``l`` local cheapest insertion) and a guided local search lambda
(``05`` = 0.5, ``10`` = 1.0), optionally followed by ``r`` and a second lambda (a restart from
the best plan for the last ``--restart-share`` of the time, fresh penalties), or by ``g`` (a
greedy descent with every operator from the best plan, without penalties, in the last 5 % of
the time; ``g15``: 15 %). ``p05g+l05g`` runs the two one after the other in one search's time,
each from its own start, and keeps the better (a time-sliced portfolio). Since workers
never talk to each other, the best of two variants per instance is what a two-worker
portfolio of them would return on twice the CPU; the summary prints that for every pair.
Every plan is checked by :func:`routing.checker.check_plan` with no visit left out.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
import time
from collections import defaultdict
from pathlib import Path

from routing.checker import check_plan
from routing.screening import screen
from routing.search import FSS, SearchJob
from routing.solomon import SolomonInstance, plan_distance, to_problem

try:
    from benchmarks.solomon_bench import DATA, Outcome, class_of, fleet, instances, pyvrp
except ImportError:  # run as a script
    from solomon_bench import (  # type: ignore[no-redef]
        DATA,
        Outcome,
        class_of,
        fleet,
        instances,
        pyvrp,
    )

STARTS = {"p": FSS.PARALLEL_CHEAPEST_INSERTION, "l": FSS.LOCAL_CHEAPEST_INSERTION}


def parse(spec: str) -> tuple[int, float, float | None, float]:
    """``p05`` -> (PCI, 0.5, None, 0); ``p05r10`` -> (PCI, 0.5, 1.0, 0); ``p05g`` -> (PCI, 0.5,
    None, 0.05) and ``p05g15`` -> (..., 0.15): the share of the time for the closing greedy
    descent (``SearchJob.polish``)."""
    head, _, polish = spec.partition("g")
    share = (int(polish) / 100 if polish else 0.05) if "g" in spec else 0.0
    head, _, tail = head.partition("r")
    return STARTS[head[0]], int(head[1:]) / 10, (int(tail) / 10 if tail else None), share


def variant(instance: SolomonInstance, seconds: float, spec: str, share: float) -> Outcome:
    if "+" in spec:  # searches one after another, each from its own start: keep the best
        parts = [variant(instance, seconds / len(spec.split("+")), part, share)
                 for part in spec.split("+")]
        best = min(parts, key=lambda got: got.distance)
        return Outcome(best.distance, best.vehicles, all(p.legal for p in parts),
                       sum(p.wall for p in parts))
    strategy, first, second, polish = parse(spec)
    problem = to_problem(instance, vehicles=fleet(instance))
    screening = screen(problem)
    started = time.perf_counter()
    budget = seconds if second is None else seconds * (1 - share)
    plan = SearchJob(problem=problem, screening=screening, seconds=budget, strategy=strategy,
                     gls_lambda=first, polish=polish).run()
    if second is not None and plan is not None:
        left = seconds - (time.perf_counter() - started)
        again = SearchJob(problem=problem, screening=screening, seconds=left, strategy=strategy,
                          gls_lambda=second, warm=plan).run()
        if again is not None and again.objective <= plan.objective:
            plan = again
    wall = time.perf_counter() - started
    assert plan is not None
    legal = not check_plan(problem, plan) and not plan.unassigned
    return Outcome(plan_distance(instance, plan), plan.vehicles_used, legal, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--set", choices=("tuning", "held"), default="tuning")
    parser.add_argument("--variants", default="p05,l05,p10,l10")
    parser.add_argument("--restart-share", type=float, default=0.4)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--csv", type=Path)
    args = parser.parse_args()
    specs = args.variants.split(",")
    chosen = instances(args.set, args.data)
    if args.only:
        chosen = [i for i in chosen if i.name in args.only]
    gaps: dict[str, dict[str, float]] = defaultdict(dict)
    print(f"{'instance':16} {'pyvrp':>9} " + " ".join(f"{s:>8}" for s in specs), flush=True)
    for instance in chosen:
        base = pyvrp(instance, args.seconds)
        row = {s: variant(instance, args.seconds, s, args.restart_share) for s in specs}
        bad = [s for s, o in row.items() if not o.legal] + ([] if base.legal else ["pyvrp"])
        for s, got in row.items():
            gaps[instance.name][s] = 100 * (got.distance / base.distance - 1)
        cells = " ".join(f"{gaps[instance.name][s]:+8.2f}" for s in specs)
        print(f"{instance.name:16} {base.distance:9.2f} {cells} {'BAD ' + str(bad) if bad else ''}",
              flush=True)
        if args.csv:
            with args.csv.open("a", newline="") as handle:
                writer = csv.writer(handle)
                for s, got in [("pyvrp", base), *row.items()]:
                    writer.writerow([args.set, instance.name, class_of(instance.name), s,
                                     args.seconds, f"{got.distance:.3f}", got.vehicles,
                                     got.legal, f"{got.wall:.2f}"])
    print("\nmean gap to PyVRP %, one search each:")
    for s in specs:
        print(f"  {s:10} {statistics.mean(g[s] for g in gaps.values()):+.2f}")
    print("best of two per instance (a two-worker portfolio's result):")
    for a, b in itertools.combinations(specs, 2):
        best = statistics.mean(min(g[a], g[b]) for g in gaps.values())
        print(f"  {a}+{b:10} {best:+.2f}")


if __name__ == "__main__":
    main()

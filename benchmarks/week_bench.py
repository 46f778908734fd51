"""A week's horizon (issue 15 item 4): a week of home-care calls planned in one problem.

    .venv/bin/python benchmarks/week_bench.py --patients 40 --workers 12 --seconds 30

Synthetic and seeded: patients on a 10 km square (car, 18 km/h, circuity 1.35), each with one
to four 30-minute calls a day in the tariff's windows (08:00-10:00; 12:00-14:00; 17:00-19:00;
with four calls 07:30-09:30, 12:00-13:30, 16:30-18:00, 20:00-21:30), a patient's calls of a
day at least 2 hours apart (``spacing``); workers on an early (07:00-14:30) or late
(14:30-22:00) shift every day, half each, with a 30-minute break. The same problem is solved
without and with ``continuity`` for the same total time; the table gives calls served, carer
changes (a patient's consecutive calls by a different worker), travel, checker violations
and wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time

import numpy as np

from routing.checker import check_plan
from routing.solver import solve
from routing.spacing import worker_changes
from routing.types import PRIORITY_LOWEST, Break, RoutingProblem, Shift, Spacing, Visit

HOUR = 3600
DAY = 24 * HOUR
SPEED_M_PER_S = 18_000 / 3600 / 1.35
WINDOWS = {
    1: ((8.0, 10.0),),
    2: ((8.0, 10.0), (17.0, 19.0)),
    3: ((8.0, 10.0), (12.0, 14.0), (17.0, 19.0)),
    4: ((7.5, 9.5), (12.0, 13.5), (16.5, 18.0), (20.0, 21.5)),
}


def week(patients: int, workers: int, days: int, seed: int) -> RoutingProblem:
    """The synthetic week (locations: 0 the base, then one per patient)."""
    rng = random.Random(seed)
    points = np.array([[5000.0, 5000.0]] + [[rng.uniform(0, 10_000), rng.uniform(0, 10_000)]
                                            for _ in range(patients)])
    metres = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    travel = np.ceil(metres / SPEED_M_PER_S).astype(np.int64)
    shifts = []
    for day in range(days):
        for w in range(workers):
            early = w % 2 == 0
            start = day * DAY + int((7.0 if early else 14.5) * HOUR)
            shifts.append(Shift(f"w{w}-d{day}", f"w{w}", 0, 0, start, start + int(7.5 * HOUR),
                                frozenset({"personal_care"}),
                                (Break(start + 3 * HOUR, start + 5 * HOUR, 1800),)))
    visits, spacing = [], []
    calls = [rng.randint(1, 4) for _ in range(patients)]
    for day in range(days):
        for p in range(patients):
            ids = []
            for k, (a, b) in enumerate(WINDOWS[calls[p]]):
                vid = f"p{p}-d{day}-c{k}"
                ids.append(vid)
                visits.append(Visit(vid, p + 1, 1800, day * DAY + int(a * HOUR),
                                    day * DAY + int(b * HOUR), PRIORITY_LOWEST - 5,
                                    frozenset({"personal_care"}), patient=f"p{p}"))
            if len(ids) > 1:
                spacing.append(Spacing(tuple(ids), 2 * HOUR))
    return RoutingProblem(tuple(visits), tuple(shifts), travel, seed=seed,
                          spacing=tuple(spacing))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=40)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=30.0, help="per solve (each)")
    parser.add_argument("--seed", type=int, nargs="+", default=[1])
    parser.add_argument("--searches", type=int, default=2, help="parallel searches (workers=)")
    args = parser.parse_args()
    for seed in args.seed:
        problem = week(args.patients, args.workers, args.days, seed)
        print(f"seed {seed}: {len(problem.visits)} calls, {len(problem.shifts)} shifts, "
              f"{len(problem.spacing)} spacing rules, {args.days} days, "
              f"{args.searches} search(es)")
        print(f"{'':12}{'served':>8}{'dropped':>8}{'changes':>8}{'travel h':>9}"
              f"{'violations':>11}{'wall s':>8}")
        for continuity in (False, True):
            case = dataclasses.replace(problem, continuity=continuity)
            started = time.perf_counter()
            plan = solve(case, seconds=args.seconds, workers=args.searches)
            wall = time.perf_counter() - started
            served = sum(len(r.stops) for r in plan.routes)
            print(f"{'continuity' if continuity else 'none':12}{served:>8}"
                  f"{len(plan.unassigned):>8}{worker_changes(case, plan):>8}"
                  f"{plan.travel_total / HOUR:>9.1f}{len(check_plan(case, plan)):>11}"
                  f"{wall:>8.1f}", flush=True)


if __name__ == "__main__":
    main()

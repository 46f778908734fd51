"""``insert_urgent`` latency at 100 shifts and 500 visits (run on demand, not in CI).

    .venv/bin/python benchmarks/insert_bench.py --inserts 20

Builds a synthetic day (random points on a 30 km square, 30 km/h, three skills, 8-hour
shifts with a 30-minute break), plans it once, pins a fifth of the routed visits as
accepted, then inserts urgent 2-hour visits one after another and reports latency
percentiles, how many existing visits changed shift, and checker violations.

``--linked 0.2`` makes a fifth of the day's visits double-handed pairs; ``--urgent-pairs``
makes each urgent visit double-handed too (two visits linked 0..0, different workers, placed
together by one ``insert_urgent`` call); ``--slots`` then times
:func:`routing.slots.recommend_slots` (k=3, one-hour windows every 30 minutes over the day)
for new visits against the final plan (issue 15).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import time

import numpy as np

from routing.checker import check_plan
from routing.slots import recommend_slots
from routing.solver import insert_urgent, solve
from routing.types import (
    PRIORITY_24H,
    PRIORITY_URGENT_2H,
    Break,
    Link,
    RoutingPlan,
    RoutingProblem,
    Shift,
    Visit,
)

HOUR = 3600
SKILLS = ("nurse", "therapy", "social")
SPEED_M_PER_S = 30_000 / 3600


def synthetic_day(shifts: int, visits: int, seed: int) -> RoutingProblem:
    """A reproducible synthetic day; bases are the first ``shifts // 10`` locations."""
    rng = random.Random(seed)
    bases = max(1, shifts // 10)
    points = np.array(
        [[rng.uniform(0, 30_000), rng.uniform(0, 30_000)] for _ in range(bases + visits + 50)]
    )
    travel = np.ceil(
        np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1)) / SPEED_M_PER_S
    ).astype(np.int64)
    shift_list = []
    for k in range(shifts):
        start = rng.choice((0, 2, 4)) * HOUR
        base = rng.randrange(bases)
        skills = frozenset({"nurse"} | set(rng.sample(SKILLS, 1)))
        shift_list.append(
            Shift(
                f"s{k}",
                f"w{k}",
                base,
                base,
                start,
                start + 8 * HOUR,
                skills,
                (Break(start + 3 * HOUR, start + 5 * HOUR, 1800),),
            )
        )
    visit_list = []
    for k in range(visits):
        earliest = rng.randrange(0, 8) * HOUR
        visit_list.append(
            Visit(
                f"v{k}",
                bases + k,
                rng.choice((1800, 2700)),
                earliest,
                earliest + 4 * HOUR,
                PRIORITY_24H,
                frozenset(rng.sample(SKILLS, 1)),
            )
        )
    return RoutingProblem(tuple(visit_list), tuple(shift_list), travel, seed=seed)


def link_some(problem: RoutingProblem, share: float, seed: int) -> RoutingProblem:
    """Make ``share`` of the visits double-handed: pairs (v2k, v2k+1) at one place and window,
    linked with gap 0..0 and different workers (issue 15)."""
    if share <= 0:
        return problem
    rng = random.Random(seed)
    visits = list(problem.visits)
    pairs = rng.sample(range(len(visits) // 2), int(len(visits) * share / 2))
    links = []
    for k in sorted(pairs):
        first = visits[2 * k]
        visits[2 * k + 1] = dataclasses.replace(first, id=visits[2 * k + 1].id)
        links.append(Link(first.id, visits[2 * k + 1].id, 0, 0, "different"))
    return dataclasses.replace(problem, visits=tuple(visits), links=tuple(links))


def pin_some(problem: RoutingProblem, plan: RoutingPlan, share: float, seed: int) -> RoutingProblem:
    """Pin ``share`` of the routed visits to their planned shift and start (accepted)."""
    rng = random.Random(seed)
    where = {s.visit_id: (r.shift_id, s.start) for r in plan.routes for s in r.stops}
    chosen = set(rng.sample(sorted(where), int(len(where) * share)))
    visits = tuple(
        dataclasses.replace(v, pinned_to=where[v.id][0], pinned_start=where[v.id][1])
        if v.id in chosen
        else v
        for v in problem.visits
    )
    return dataclasses.replace(problem, visits=visits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shifts", type=int, default=100)
    parser.add_argument("--visits", type=int, default=500)
    parser.add_argument("--inserts", type=int, default=20)
    parser.add_argument("--budget", type=float, default=0.8, help="insert_urgent seconds")
    parser.add_argument("--plan-seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--linked", type=float, default=0.0,
                        help="share of visits made double-handed pairs (e.g. 0.2)")
    parser.add_argument("--urgent-pairs", action="store_true",
                        help="each urgent visit is a double-handed pair")
    parser.add_argument("--slots", type=int, default=0,
                        help="then time recommend_slots for this many new visits")
    args = parser.parse_args()
    problem = link_some(synthetic_day(args.shifts, args.visits, args.seed), args.linked, args.seed)
    plan = solve(problem, seconds=args.plan_seconds, workers=2)
    problem = pin_some(problem, plan, 0.2, args.seed)
    print(
        f"initial plan: {sum(len(r.stops) for r in plan.routes)} routed, "
        f"{len(plan.unassigned)} unassigned, violations {len(check_plan(problem, plan))}"
    )
    rng = random.Random(args.seed + 1)
    latencies, moved, placed, violations = [], 0, 0, 0
    for k in range(args.inserts):
        location = args.shifts // 10 + args.visits + rng.randrange(50)
        now = rng.randrange(0, 6) * HOUR
        urgent = Visit(
            f"u{k}", location, 1800, now, now + 2 * HOUR, PRIORITY_URGENT_2H, frozenset({"nurse"})
        )
        if args.urgent_pairs:
            partner = dataclasses.replace(urgent, id=f"u{k}b")
            problem = dataclasses.replace(
                problem, visits=(*problem.visits, urgent, partner),
                links=(*problem.links, Link(urgent.id, partner.id, 0, 0, "different")))
        before = {s.visit_id: r.shift_id for r in plan.routes for s in r.stops}
        started = time.perf_counter()
        plan = insert_urgent(plan, problem, urgent, seconds=args.budget)
        latencies.append(time.perf_counter() - started)
        if not args.urgent_pairs:
            problem = dataclasses.replace(problem, visits=(*problem.visits, urgent))
        after = {s.visit_id: r.shift_id for r in plan.routes for s in r.stops}
        moved += sum(1 for v, s in before.items() if after.get(v) != s)
        placed += urgent.id in after and (not args.urgent_pairs or f"u{k}b" in after)
        violations += len(check_plan(problem, plan))
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(
        f"{'inserts':>8} {'placed':>6} {'p50 s':>6} {'p95 s':>6} {'max s':>6} "
        f"{'moved':>6} {'violations':>10}"
    )
    print(
        f"{args.inserts:8d} {placed:6d} {statistics.median(latencies):6.3f} {p95:6.3f} "
        f"{latencies[-1]:6.3f} {moved:6d} {violations:10d}"
    )
    if args.slots:
        slot_times, offered = [], 0
        for k in range(args.slots):
            location = args.shifts // 10 + args.visits + rng.randrange(50)
            new = Visit(f"n{k}", location, 1800, 0, 12 * HOUR, PRIORITY_24H,
                        frozenset({rng.choice(SKILLS)}))
            started = time.perf_counter()
            found = recommend_slots(problem, new, 3, plan=plan)
            slot_times.append(time.perf_counter() - started)
            offered += len(found)
        slot_times.sort()
        p95 = slot_times[min(len(slot_times) - 1, int(0.95 * len(slot_times)))]
        print(f"recommend_slots x{args.slots} (23 windows each): {offered} slots offered, "
              f"p50 {statistics.median(slot_times):.3f} s, p95 {p95:.3f} s, "
              f"max {slot_times[-1]:.3f} s")


if __name__ == "__main__":
    main()

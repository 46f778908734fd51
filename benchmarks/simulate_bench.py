"""The full simulated day for both policies on identical demand (issue 7's figures).

Run on demand (not in CI), a few minutes per policy on two cores:

    .venv/bin/python benchmarks/simulate_bench.py --seed 1 --date 2026-12-01

Prints the wall time of each policy's day, 2-hour and 24-hour compliance, travel per visit,
utilisation, the load (referrals and visits per worker-hour) and the missed deadlines by
cause, then checks the issue's target: the optimised policy meets the 2-hour standard for at
least 95 % of urgent referrals and beats the nearest-worker policy on compliance and travel.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import date

from dispatch.simulation.cli import difference
from dispatch.simulation.day import compare
from dispatch.simulation.report import html_report, table
from dispatch.simulation.types import SimulationConfig

TARGET_URGENT = 0.95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default="2026-12-01")
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--report", default=None, help="write the HTML report here")
    parser.add_argument("--staff-travel-modes", action="store_true")
    args = parser.parse_args()
    logging.getLogger("dispatch").setLevel(logging.ERROR)
    config = SimulationConfig(seed=args.seed, day=date.fromisoformat(args.date),
                              patients=args.patients,
                              staff_travel_modes=args.staff_travel_modes)
    started = time.perf_counter()
    results = compare(config, progress=lambda line: print(line, file=sys.stderr, flush=True))
    total = time.perf_counter() - started
    print(table(results))
    diff = difference(results)
    print("optimised minus nearest:", json.dumps(diff))
    print(f"total wall time (load once + both days): {total:.1f} s")
    if args.report:
        with open(args.report, "w", encoding="utf-8") as handle:
            handle.write(html_report(results, f"Simulated day {args.date}, seed {args.seed}"))
    urgent = results["optimised"].kpis["urgent_2h"]["compliance"]
    met = (urgent >= TARGET_URGENT and diff["urgent_2h_compliance"] > 0
           and diff["travel_minutes_per_visit"] < 0)
    print(f"target (>= {TARGET_URGENT:.0%} urgent, beats nearest on compliance and travel): "
          f"{'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

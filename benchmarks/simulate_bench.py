"""The full simulated day for both policies on identical demand (issue 7's figures).

Run on demand (not in CI), a few minutes per policy on two cores:

    .venv/bin/python benchmarks/simulate_bench.py --seed 1 --date 2026-12-01
    .venv/bin/python benchmarks/simulate_bench.py --days 1:2026-12-01,2:2026-12-01,3:2026-12-05

The first form prints the wall time of each policy's day, 2-hour and 24-hour compliance,
travel per visit, utilisation, the load (referrals and visits per worker-hour) and the missed
deadlines by cause, then checks the issue's target: the optimised policy meets the 2-hour
standard for at least 95 % of urgent referrals and beats the nearest-worker policy on
compliance and travel.
The second plays several days (seed:date each, one after another) and prints one line per day
and the totals: one day's result turns on a handful of visits (one unanswered text can decide
it), so a claim about the policies needs more than one day.
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
    parser.add_argument("--days", default=None,
                        help="several days, comma-separated seed:date pairs (totals printed)")
    args = parser.parse_args()
    logging.getLogger("dispatch").setLevel(logging.ERROR)
    if args.days:
        return several_days(args.days, args.patients, args.staff_travel_modes)
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


def several_days(days: str, patients: int, staff_travel_modes: bool) -> int:
    """Both policies on each seed:date; a line per day, then totals and win/tie/loss counts."""
    totals = {policy: {"met": 0, "due": 0, "met24": 0, "due24": 0, "travel": 0.0, "days": 0}
              for policy in ("optimised", "nearest")}
    record = {"compliance": [0, 0, 0], "travel": [0, 0, 0]}  # wins, ties, losses
    started = time.perf_counter()
    print("seed date        | 2h met opt / near | 24h met opt / near | travel opt / near min")
    for item in days.split(","):
        seed_text, _, day_text = item.strip().partition(":")
        config = SimulationConfig(seed=int(seed_text), day=date.fromisoformat(day_text),
                                  patients=patients, staff_travel_modes=staff_travel_modes)
        results = compare(config)
        kpis = {policy: results[policy].kpis for policy in totals}
        for policy, k in kpis.items():
            t = totals[policy]
            t["met"] += k["urgent_2h"]["met"]
            t["due"] += k["urgent_2h"]["count"]
            t["met24"] += k["response_24h"]["met"]
            t["due24"] += k["response_24h"]["count"]
            t["travel"] += k["travel_minutes_per_visit"]
            t["days"] += 1
        diff = difference(results)
        for key, value in (("compliance", diff["urgent_2h_compliance"]),
                           ("travel", -diff["travel_minutes_per_visit"])):
            record[key][0 if value > 0 else 1 if value == 0 else 2] += 1
        o, n = kpis["optimised"], kpis["nearest"]
        print(f"{seed_text:>4} {day_text} | {o['urgent_2h']['met']:>3}/{o['urgent_2h']['count']}"
              f" / {n['urgent_2h']['met']:>3}/{n['urgent_2h']['count']}"
              f"       | {o['response_24h']['met']:>3} / {n['response_24h']['met']:>3}"
              f"          | {o['travel_minutes_per_visit']:.2f} / "
              f"{n['travel_minutes_per_visit']:.2f}", flush=True)
    for policy, t in totals.items():
        print(f"{policy:>9}: 2-hour {t['met']}/{t['due']} ({t['met'] / max(1, t['due']):.1%}), "
              f"24-hour {t['met24']}/{t['due24']} ({t['met24'] / max(1, t['due24']):.1%}), "
              f"travel {t['travel'] / max(1, t['days']):.3f} min per visit (mean of days)")
    for key, (wins, ties, losses) in record.items():
        print(f"optimised vs nearest on {key}: {wins} days better, {ties} equal, {losses} worse")
    print(f"total wall time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

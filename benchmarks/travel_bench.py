"""Benchmark: time the offline travel-time matrix for a day's worth of London locations.

Why 2,700: a busy tri-borough day has a few hundred staff bases and shift ends plus a couple of
thousand visits; the scheduler asks for one square matrix over all of them before solving, and
re-optimisation repeats it, so it must take well under a second.

Usage::

    .venv/bin/python benchmarks/travel_bench.py [--points 2700] [--repeat 5] [--seed 7] [--json]

Points are postcode-district centroids from the shipped table with a few hundred metres of
seeded jitter, so the numbers are reproducible.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence

import numpy as np

from routing.geocoding import load_outcodes
from routing.travel import GeodesicTravelTime

#: Standard deviation of the jitter around each district centroid, in degrees (~500 m).
JITTER_DEGREES = 0.005


def sample_points(count: int, seed: int) -> np.ndarray:
    """Return ``count`` seeded (lat, lon) points scattered around London district centroids."""
    rng = np.random.default_rng(seed)
    centroids = np.array(list(load_outcodes().values()))
    chosen = centroids[rng.integers(0, len(centroids), count)]
    return chosen + rng.normal(0.0, JITTER_DEGREES, chosen.shape)


def run(count: int, repeat: int, seed: int, mode: str = "car") -> dict[str, object]:
    """Time ``repeat`` computations of a ``count`` x ``count`` matrix; return a summary."""
    points = sample_points(count, seed)
    provider = GeodesicTravelTime()
    provider.matrix(points[:10], points[:10], mode)  # warm-up: imports, first allocations
    timings = []
    matrix = np.empty((0, 0), dtype=np.int64)
    for _ in range(repeat):
        started = time.perf_counter()
        matrix = provider.matrix(points, points, mode)
        timings.append(time.perf_counter() - started)
    off_diagonal = matrix[~np.eye(count, dtype=bool)]
    return {
        "points": count,
        "cells": count * count,
        "mode": mode,
        "repeat": repeat,
        "seconds_min": round(min(timings), 4),
        "seconds_median": round(statistics.median(timings), 4),
        "seconds_max": round(max(timings), 4),
        "matrix_megabytes": round(matrix.nbytes / 1e6, 1),
        "travel_seconds_median": float(np.median(off_diagonal)) if off_diagonal.size else 0.0,
        "travel_seconds_max": int(off_diagonal.max()) if off_diagonal.size else 0,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the benchmark and print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2700, help="matrix side (default 2700)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--mode", default="car", help="travel mode (default car)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.points, args.repeat, args.seed, args.mode)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

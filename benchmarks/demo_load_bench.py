"""Benchmark: load the full tri-borough register (466,921 patients) into a fresh SQLite file.

Run: ``.venv/bin/python benchmarks/demo_load_bench.py [--patients N] [--seed N] [--keep DIR]``.
Prints wall time of generation plus load, rows per second, and the database file's size. The
issue asks that the full register loads "in minutes, not hours"; this is the check.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from dispatch.db import make_engine
from dispatch.demo import TRI_BOROUGH_POPULATION
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade

#: A fixed start so repeated runs load identical data.
BENCH_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def run(patients: int, seed: int, folder: Path) -> dict[str, float]:
    """Migrate a new SQLite file in ``folder``, load the demo and return the figures."""
    path = folder / "demo_bench.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    summary = load_demo(
        engine, seed=seed, patients=patients, now=BENCH_NOW, progress=lambda m: print("  " + m)
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    rows = summary.patients + summary.care_plans + summary.staff + summary.shifts
    size = sum(p.stat().st_size for p in folder.glob("demo_bench.sqlite3*"))
    return {
        "patients": summary.patients,
        "care_plans": summary.care_plans,
        "rows": rows,
        "seconds": seconds,
        "rows_per_second": rows / seconds,
        "patients_per_second": summary.patients / seconds,
        "file_mb": size / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=TRI_BOROUGH_POPULATION)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="Write the file here and keep it.")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = run(args.patients, args.seed, args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            figures = run(args.patients, args.seed, Path(tmp))
    print(
        f"loaded {figures['patients']:,.0f} patients and {figures['care_plans']:,.0f} care plans "
        f"({figures['rows']:,.0f} rows) in {figures['seconds']:.1f} s: "
        f"{figures['rows_per_second']:,.0f} rows/s, "
        f"{figures['patients_per_second']:,.0f} patients/s; "
        f"SQLite file {figures['file_mb']:.1f} MB"
    )


if __name__ == "__main__":
    main()

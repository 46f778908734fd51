"""Benchmark: render the dispatch board for all networks at 1,000 open visits (issue 14).

Run: ``nice -n 10 .venv/bin/python benchmarks/board_bench.py [--visits 1000] [--patients 5000]
[--n 30] [--compare DIR --rounds 3]``. Loads the demo (roster around a fixed now, the register)
into a fresh SQLite file, adds open visits in mixed states across the networks
(``tests.browser.board_day``), signs a coordinator in and times ``GET /board?network=all`` (the
page), ``GET /board/data?network=all`` (the poll) and ``GET /board`` (one network) through the
app, ``n`` times each after a warm-up. Prints p50 and p95 in milliseconds (wall clock and this
process's CPU time) and the page size; the target is p95 below 300 ms for all networks.

The machine may be shared, so every request is followed by a fixed reference workload (a JSON
round trip of 1,000 small records, pure Python, no I/O) and the table gives each p95 as a ratio
to the reference's p95 in the same run, with the load average at the start and the end.

``--compare DIR``: DIR holds another checkout of the code (e.g. ``git archive main``); the
same database is timed with that code and with this one in alternate child processes
(``rounds`` each, load shared alike), so "before" and "after" come from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The code timed: this checkout, or (a --compare child) the other one named by the parent.
sys.path.insert(0, os.environ.get("BOARD_BENCH_CODE", str(ROOT)))  # with its tests/ helpers
TARGET_P95_MS = 300.0
FIXED_NOW = "2026-12-01T10:20:00+00:00"  # a Tuesday morning (tests.browser.support)
PATHS = ("/board?network=all", "/board/data?network=all", "/board")
REFERENCE_RECORDS = [{"id": n, "reference": f"B{n:04d}", "status": "offered", "minutes": n % 97,
                      "deadline": f"2026-12-01T{n % 24:02d}:{n % 60:02d}:00+00:00"}
                     for n in range(1000)]


def percentile(sorted_ms: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted figures."""
    return sorted_ms[max(0, round(share * len(sorted_ms)) - 1)]


def reference_ms() -> float:
    """The fixed reference workload's wall time in ms (what the machine gives us right now)."""
    t0 = time.perf_counter()
    json.loads(json.dumps(REFERENCE_RECORDS))
    return (time.perf_counter() - t0) * 1000


def seed(url: str, *, patients: int, visits: int) -> str:
    """Migrate and load a board day into ``url``; a summary line."""
    import sqlalchemy as sa

    from dispatch import create_app
    from dispatch import models as m
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user
    from tests.browser.board_day import COORDINATOR, PASSWORD, add_open_visits

    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "FIXED_NOW": FIXED_NOW})
    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    started = time.perf_counter()
    load_demo(database.engine, seed=1, patients=patients, now=now)
    with database.session_scope() as session:
        add_open_visits(session, now=now, count=visits)
        network_id = session.scalars(sa.select(m.Network.id).order_by(m.Network.id)).first()
        user = add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD,
                        now=now).user
        user.network_id = network_id
        shifts = session.scalar(sa.select(sa.func.count()).select_from(m.Shift))
    database.engine.dispose()
    return (f"loaded {patients} patients, {visits} open visits, {shifts} shifts "
            f"in {time.perf_counter() - started:.1f} s")


def measure(url: str, n: int) -> dict[str, dict[str, list[float] | int]]:
    """Time each path ``n`` times (wall and CPU ms), each followed by the reference."""
    from dispatch import create_app
    from tests.browser.board_day import COORDINATOR, PASSWORD

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "FIXED_NOW": FIXED_NOW,
                      "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    assert client.post("/sign-in", data={"username": COORDINATOR,
                                         "password": PASSWORD}).status_code == 303
    out: dict[str, dict[str, list[float] | int]] = {}
    for path in PATHS:
        assert client.get(path).status_code == 200  # warm the template cache
        wall, cpu, ref = [], [], []
        size = 0
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            response = client.get(path)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            assert response.status_code == 200
            size = len(response.data)
            ref.append(reference_ms())
        out[path] = {"wall": wall, "cpu": cpu, "ref": ref, "size": size}
    return out


def table(label: str, results: dict[str, dict[str, list[float] | int]]) -> float:
    """Print one code's table; return the all-networks page's wall p95."""
    print(f"\n{label}")
    print("| request | p50 ms | p95 ms | CPU p95 ms | p95 / reference p95 | size KiB |")
    print("|---|---|---|---|---|---|")
    verdict = 0.0
    for path, r in results.items():
        wall, cpu, ref = (sorted(r[k]) for k in ("wall", "cpu", "ref"))  # type: ignore[arg-type]
        p95 = percentile(wall, 0.95)
        size = r["size"]
        kib = size // 1024 if isinstance(size, int) else 0
        print(f"| GET {path} | {statistics.median(wall):.1f} | {p95:.1f} | "
              f"{percentile(cpu, 0.95):.1f} | {p95 / percentile(ref, 0.95):.0f} | {kib} |")
        if path == PATHS[0]:
            verdict = p95
    return verdict


def merge(into: dict[str, dict[str, list[float] | int]],
          more: dict[str, dict[str, list[float] | int]]) -> None:
    for path, r in more.items():
        mine = into.setdefault(path, {"wall": [], "cpu": [], "ref": [], "size": r["size"]})
        for key in ("wall", "cpu", "ref"):
            mine[key] += r[key]  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--compare", type=Path, help="another checkout to time against this one")
    parser.add_argument("--rounds", type=int, default=3, help="with --compare: runs of each")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a child run: the database URL
    args = parser.parse_args()
    if args.child:
        import dispatch

        assert Path(dispatch.__file__).is_relative_to(os.environ.get("BOARD_BENCH_CODE", ROOT))
        print(json.dumps(measure(args.child, args.n)))
        return
    folder = Path(tempfile.mkdtemp(prefix="board-bench-"))
    seeded = folder / "seeded.sqlite3"
    print(seed(f"sqlite:///{seeded}", patients=args.patients, visits=args.visits))
    load_before = os.getloadavg()
    print(f"load average at start {load_before[0]:.1f} ({os.cpu_count()} CPUs), n = {args.n}, "
          f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    if args.compare is None:
        verdict = table("this code", measure(f"sqlite:///{seeded}", args.n))
    else:
        codes = {"before (" + str(args.compare) + ")": args.compare, "after (this code)": ROOT}
        results: dict[str, dict[str, dict[str, list[float] | int]]] = {c: {} for c in codes}
        for round_ in range(args.rounds):
            for label, tree in codes.items():
                copy = folder / f"run-{round_}-{tree.name}.sqlite3"
                shutil.copy(seeded, copy)
                env = {**os.environ, "PYTHONPATH": str(tree), "BOARD_BENCH_CODE": str(tree)}
                done = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--n", str(args.n),
                     "--child", f"sqlite:///{copy}"], env=env, cwd=tree, check=True,
                    capture_output=True, text=True)
                merge(results[label], json.loads(done.stdout.strip().splitlines()[-1]))
        verdicts = [table(label, r) for label, r in results.items()]
        verdict = verdicts[-1]
        print(f"\nall networks p95: before {verdicts[0]:.1f} ms, after {verdict:.1f} ms "
              f"({verdicts[0] / verdict:.1f} times faster)")
    load_after = os.getloadavg()
    print(f"load average at end {load_after[0]:.1f}")
    print(f"all networks p95 {verdict:.1f} ms: "
          f"{'below' if verdict < TARGET_P95_MS else 'ABOVE'} the {TARGET_P95_MS:.0f} ms target")


if __name__ == "__main__":
    main()

"""Benchmark: render the dispatch board for all networks at 1,000 open visits (issue 14).

Run: ``nice -n 10 .venv/bin/python benchmarks/board_bench.py [--visits 1000] [--patients 5000]
[--n 30]``. Loads the demo (roster around a fixed now, the register) into a fresh SQLite file,
adds open visits in mixed states across the networks (``tests.browser.board_day``), signs a
coordinator in and times ``GET /board?network=all`` (the page), ``GET /board/data?network=all``
(the poll) and ``GET /board`` (one network) through the app, ``n`` times each after a warm-up.
Prints p50 and p95 in milliseconds and the page size; the target is p95 below 300 ms for all
networks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the seeding helper in tests/
TARGET_P95_MS = 300.0
FIXED_NOW = "2026-12-01T10:20:00+00:00"  # a Tuesday morning (tests.browser.support)


def percentile(sorted_ms: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted figures."""
    return sorted_ms[max(0, round(share * len(sorted_ms)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()

    import sqlalchemy as sa

    from dispatch import create_app
    from dispatch import models as m
    from dispatch.db import get_database
    from dispatch.demo.load import load_demo
    from dispatch.migrate import upgrade
    from dispatch.services.users import add_user
    from tests.browser.board_day import COORDINATOR, PASSWORD, add_open_visits

    folder = Path(tempfile.mkdtemp(prefix="board-bench-"))
    url = f"sqlite:///{folder / 'dispatch.sqlite3'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "FIXED_NOW": FIXED_NOW,
                      "WTF_CSRF_ENABLED": False})
    now = datetime.fromisoformat(FIXED_NOW)
    database = get_database(app)
    started = time.perf_counter()
    load_demo(database.engine, seed=1, patients=args.patients, now=now)
    with database.session_scope() as session:
        add_open_visits(session, now=now, count=args.visits)
        network_id = session.scalars(sa.select(m.Network.id).order_by(m.Network.id)).first()
        user = add_user(session, username=COORDINATOR, role="coordinator", password=PASSWORD,
                        now=now).user
        user.network_id = network_id
        shifts = session.scalar(sa.select(sa.func.count()).select_from(m.Shift))
    print(f"loaded {args.patients} patients, {args.visits} open visits, {shifts} shifts "
          f"in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    assert client.post("/sign-in", data={"username": COORDINATOR,
                                         "password": PASSWORD}).status_code == 303
    print(f"| request | p50 ms | p95 ms | size KiB |  (n = {args.n})")
    print("|---|---|---|---|")
    verdict = None
    for path in ("/board?network=all", "/board/data?network=all", "/board"):
        assert client.get(path).status_code == 200  # warm the template cache
        times = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = percentile(times, 0.95)
        print(f"| GET {path} | {statistics.median(times):.1f} | {p95:.1f} | "
              f"{len(response.data) // 1024} |")
        if path == "/board?network=all":
            verdict = p95
    assert verdict is not None
    print(f"all networks p95 {verdict:.1f} ms: "
          f"{'below' if verdict < TARGET_P95_MS else 'ABOVE'} the {TARGET_P95_MS:.0f} ms target")


if __name__ == "__main__":
    main()

"""p50/p95 latency of POST /api/referrals on SQLite or PostgreSQL (issue 3's figure).

Run on demand (not in CI):

    .venv/bin/python benchmarks/referral_bench.py --requests 300
    .venv/bin/python benchmarks/referral_bench.py --database postgresql+psycopg://postgres@127.0.0.1/bench

A fresh database gets the demo register (5,000 patients), then the benchmark posts referrals
for random registered patients (by NHS number) and for new patients, through the real app
(Flask test client: routing, validation, auth, triage, patient match, visit, audit, commit;
no network socket). The baseline measured in the same run is GET /healthz (one SELECT 1), so
the ratio shows what a referral costs beyond the framework and the database round trip.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from dispatch import create_app
from dispatch.db import get_database
from dispatch.demo.load import load_demo
from dispatch.migrate import upgrade
from dispatch.models import Patient
from dispatch.services.users import add_user

NEEDS = ["fall_no_injury", "sudden_confusion", "urgent_catheter", "wound_care", "personal_care"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None, help="URL (default: a temp SQLite file)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    now = datetime.now(UTC).replace(microsecond=0)
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "FIXED_NOW": now.isoformat()})
    database = get_database(app)
    load_demo(database.engine, seed=args.seed, patients=5000, now=now)
    with database.sessions() as session:
        token = add_user(session, username="bench", role="call_handler", now=now).token
        numbers = list(session.scalars(sa.select(Patient.nhs_number)))
        session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    rng = random.Random(args.seed)
    for _ in range(20):  # warm-up
        client.get("/healthz")
    base = []
    for _ in range(args.requests):
        t = time.perf_counter()
        client.get("/healthz")
        base.append(time.perf_counter() - t)
    timings = []
    for i in range(args.requests):
        body = {
            "source": "111",
            "referrer": {"name": "bench"},
            "received_at": (now - timedelta(minutes=rng.randint(0, 30))).isoformat(),
            "needs": [rng.choice(NEEDS)],
            "observations": {
                "pulse": rng.randint(50, 120),
                "respiration_rate": rng.randint(10, 26),
            },
            "patient": {"nhs_number": rng.choice(numbers)},
        }
        t = time.perf_counter()
        response = client.post(
            "/api/referrals", json=body, headers={**headers, "Idempotency-Key": f"bench-{i}"}
        )
        timings.append(time.perf_counter() - t)
        assert response.status_code == 201, response.json
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    b50, b95 = statistics.median(base), percentile(base, 0.95)
    print(f"database: {sa.make_url(url).get_backend_name()}  requests: {args.requests}")
    print(f"{'':24}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'GET /healthz (baseline)':24}{b50 * 1000:10.2f}{b95 * 1000:10.2f}")
    print(f"{'POST /api/referrals':24}{p50 * 1000:10.2f}{p95 * 1000:10.2f}")
    print(f"ratio p95 referral / baseline: {p95 / b95:.1f}x")
    database.dispose()


if __name__ == "__main__":
    main()

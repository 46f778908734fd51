"""London re-planned through real ``dispatch worker`` processes over Redis (issue 18 part 6).

``london_bench.py`` plans the city in a process pool that calls the planning run directly.
This one goes the production way: the scheduler's own decision (``tasks.due_reoptimise``)
records one task a network in the ``planning_tasks`` ledger and sends it through the task
engine to Redis; ``dispatch worker`` processes (1, then 2, each ``--threads 1``) take the tasks,
solve and apply. The wall time is from the first task sent to the last one finished in the
ledger. While the last round runs, urgent referrals are POSTed and placed the production way
too (the scheduler's place job sends a ``place`` task; a worker runs it), and the time from
the POST to the placer's decision is measured (the visit offered, or sent to jeopardy).

Each worker count gets a fresh PostgreSQL database with the same city (an unassigned morning),
so both rounds do the same work. Usage::

    .venv/bin/python benchmarks/london_workers_bench.py --scale 1 --workers 1,2 --urgent 8
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import london_bench, london_city  # noqa: E402
from dispatch.config import LONDON  # noqa: E402
from dispatch.database import Database  # noqa: E402
from dispatch.migrate import upgrade  # noqa: E402
from dispatch.models import PlanningTask, Visit  # noqa: E402
from dispatch.planning import tasks  # noqa: E402

FINAL = ("applied", "done", "superseded", "failed")


@dataclass
class Round:
    """One worker count's round: the city's tasks and the urgent placements meanwhile."""

    workers: int
    networks: int
    wall: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    urgent: list[float] = field(default_factory=list)
    load: tuple[float, float] = (0.0, 0.0)


def settings(url: str, redis_url: str, namespace: str, now: datetime,
             seconds: float) -> dict[str, Any]:
    """The configuration the workers and the scheduler side share."""
    return {"DATABASE_URL": url, "SECRET_KEY": "london-workers", "FIXED_NOW": now.isoformat(),
            "TASK_BROKER_URL": redis_url, "TASK_NAMESPACE": namespace,
            "REOPTIMISE_SECONDS": seconds, "WTF_CSRF_ENABLED": False}


def start_workers(count: int, config: dict[str, Any], logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env.update({f"DISPATCH_{k}": str(v) for k, v in config.items()})
    env["PYTHONPATH"] = str(ROOT)
    script = Path(sys.executable).with_name("dispatch")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "dispatch.cli"]
    started = []
    for n in range(count):
        with (logs / f"worker-{count}-{n}.log").open("wb") as out:
            started.append(subprocess.Popen([*command, "worker", "--threads", "1"], cwd=ROOT,
                                            env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True))
    return started


def stop_workers(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in workers:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
    for proc in workers:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)


def open_tasks(database: Database, kind: str) -> int:
    with database.session_scope() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(PlanningTask).where(
            PlanningTask.kind == kind, PlanningTask.status.not_in(FINAL))) or 0)


def wait_for_workers(database: Database, count: int, seconds: float = 120) -> None:
    """Until ``count`` workers have beaten (they are up and listening)."""
    from dispatch.models import JobHeartbeat

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with database.session_scope() as session:
            if (session.scalar(sa.select(sa.func.count()).select_from(JobHeartbeat).where(
                    JobHeartbeat.name.like("worker:%"))) or 0) >= count:
                return
        time.sleep(0.5)
    raise SystemExit(f"{count} worker(s) did not start (see the worker logs)")


def urgent_through_workers(api: london_bench.Api, app: Any, database: Database,
                           patients: Sequence[tuple[str, str, str, int]]) -> float:
    """POST an urgent fall, let the scheduler's place job send its task, and wait for a
    worker's decision: seconds, negative for jeopardy, nan if none within 5 minutes."""
    from dispatch.jobs import runner

    started = time.perf_counter()
    body = api.referral(patients[0][0], "fall_no_injury")
    visit_id = body["visits"][0]["id"]
    sent = False
    while time.perf_counter() - started < 300:
        if not sent:
            sent = bool(runner.place_new(app)) or sent
        with database.session_scope() as session:
            status, cause = session.execute(sa.select(Visit.status, Visit.jeopardy_cause)
                                            .where(Visit.id == visit_id)).one()
        if status != "unassigned":
            return time.perf_counter() - started
        if cause is not None:
            return -(time.perf_counter() - started)
        time.sleep(0.05)
    return math.nan


def one_round(*, server: str, redis_url: str, scale: float, seed: int, now: datetime,
              workers: int, seconds: float, urgent: int, logs: Path) -> Round:
    from dispatch import create_app

    url, drop = london_bench.fresh_postgres(server)
    procs: list[subprocess.Popen[bytes]] = []
    namespace: str | None = None
    opened: list[Database] = []  # disposed before the database is dropped
    try:
        upgrade(url)
        city = london_city.build_city(seed=seed, now=now, scale=scale)
        database = Database(url)
        opened.append(database)
        ids = london_city.load_city(database.engine, city)
        london_city.load_register(database.engine, city=city, network_ids=ids, first=0,
                                  count=20_000)
        london_city.load_day(database.engine, city=city, network_ids=ids)
        namespace = f"london-workers-{uuid.uuid4().hex[:10]}"
        config = settings(url, redis_url, namespace, now, seconds)
        procs = start_workers(workers, config, logs)
        wait_for_workers(database, workers)
        app = create_app(config)
        from dispatch.db import get_database
        from dispatch.tasks.engine import engine_for

        opened.append(get_database(app))

        engine = engine_for(app)
        assert engine is not None
        api = london_bench.Api(url, now)
        api.start()
        opened.append(get_database(api.app))
        patients = london_bench.sample_patients(database, 20_000, 50, random.Random(seed))
        result = Round(workers, len(ids))
        # Steady state: the morning's unplaced visits are the re-optimisation's work, tried by
        # the placer already (the clock is fixed, so they do not come due again); the placer's
        # tasks carry only the urgent referrals posted below.
        from dispatch.jobs import runner

        with database.session_scope() as session:
            runner.place_retries(app).tried(
                session.scalars(sa.select(Visit.id).where(Visit.status == "unassigned")), now)
        before = london_bench.load()
        with database.session_scope() as session:
            due = tasks.due_reoptimise(session, now=now)
        t0 = time.perf_counter()
        for item in due:
            engine.send("reoptimise", item)
        done_urgent = 0
        while open_tasks(database, "reoptimise"):
            if done_urgent < urgent:
                result.urgent.append(urgent_through_workers(
                    api, app, database, patients[done_urgent:]))
                done_urgent += 1
            else:
                time.sleep(0.2)
        result.wall = time.perf_counter() - t0
        result.load = (before, london_bench.load())
        with database.session_scope() as session:
            rows = session.execute(sa.select(PlanningTask.status)
                                   .where(PlanningTask.kind == "reoptimise")).all()
        for row in rows:
            result.statuses[row.status] = result.statuses.get(row.status, 0) + 1
        return result
    finally:
        stop_workers(procs)
        for db in opened:
            db.dispose()
        drop()
        _forget_namespace(redis_url, namespace)


def _forget_namespace(redis_url: str, namespace: str | None) -> None:
    """Delete the round's Redis keys (its queues and the workers' heartbeats)."""
    import redis

    if namespace is None:
        return
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(match=f"{namespace}*", count=500):
            client.delete(key)
    finally:
        client.close()


def report(rounds: Sequence[Round], seconds: float) -> str:
    lines = [f"re-optimisation round through `dispatch worker` (Redis), {seconds:g} s search a "
             "network, every network of the city",
             "| workers | networks | wall s | networks a minute | tasks by status | "
             "urgent n | urgent p50 / p95 / max s (POST to decision) | load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rounds:
        times = sorted(abs(t) for t in r.urgent if not math.isnan(t))
        if times:
            u = (f"{statistics.median(times):.2f} / "
                 f"{london_bench.percentile(times, 0.95):.2f} / {times[-1]:.2f}")
        else:
            u = "-"
        decided = ", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items()))
        lines.append(f"| {r.workers} | {r.networks} | {r.wall:.1f} | "
                     f"{60 * r.networks / r.wall if r.wall else math.nan:.1f} | {decided} | "
                     f"{len(r.urgent)} ({sum(t < 0 for t in r.urgent)} to jeopardy) | {u} | "
                     f"{r.load[0]:.1f} -> {r.load[1]:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    london_bench.city_arguments(parser)  # a fresh database per round, dropped
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", default="1,2", help="worker counts, one round each")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--urgent", type=int, default=8,
                        help="urgent referrals placed during each round")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.date).replace(hour=8, tzinfo=LONDON)
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"london-workers-{os.getpid()}"
    logs.mkdir(parents=True, exist_ok=True)
    rounds = []
    for count in (int(w) for w in args.workers.split(",")):
        rounds.append(one_round(server=args.postgres, redis_url=args.redis, scale=args.scale,
                                seed=args.seed, now=now, workers=count, seconds=args.seconds,
                                urgent=args.urgent, logs=logs))
        print(report(rounds[-1:], args.seconds), flush=True)
    print()
    print(report(rounds, args.seconds))
    print(f"worker logs: {logs}")


if __name__ == "__main__":
    main()

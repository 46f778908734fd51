"""Record what the background work did (job heartbeats, planner runs) for ``/metrics``.

Why in the database: in production the jobs run in the ``dispatch scheduler`` process and
``/metrics`` is served by the web processes, so an in-memory counter in one is invisible to the
other. Both writes are one small row per job run or planner run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models import JobHeartbeat, PlannerRun

KEEP_PLANNER_RUNS = timedelta(days=7)


def record_job(session: so.Session, *, name: str, started: datetime, seconds: float,
               ok: bool) -> None:
    """Update ``name``'s heartbeat: one more run (and failure when not ``ok``)."""
    finished = started + timedelta(seconds=seconds)
    row = session.get(JobHeartbeat, name, with_for_update=True)
    if row is None:
        row = JobHeartbeat(name=name, runs=0, failures=0, last_started_at=started,
                           last_finished_at=finished, last_seconds=seconds, last_ok=ok)
        session.add(row)
    row.last_started_at, row.last_finished_at = started, finished
    row.last_seconds, row.last_ok = seconds, ok
    row.runs = (row.runs or 0) + 1
    row.failures = (row.failures or 0) + (0 if ok else 1)
    session.flush()


def record_planner_run(session: so.Session, *, network_id: int | None, method: str,
                       started: datetime, seconds: float, visits: int, planned: int,
                       relaxed: bool) -> None:
    """Store one planner run and prune runs older than a week."""
    session.add(PlannerRun(network_id=network_id, method=method, started_at=started,
                           seconds=max(0.0, seconds), visits=visits, planned=planned,
                           dropped=max(0, visits - planned), relaxed=relaxed))
    session.execute(sa.delete(PlannerRun).where(
        PlannerRun.started_at < started - KEEP_PLANNER_RUNS))
    session.flush()


WORKER_PREFIX = "worker:"
#: A worker's heartbeat row is dropped this long after its last beat (workers come and go).
KEEP_WORKERS = timedelta(days=1)


def worker_row_name(name: str) -> str:
    """``worker:<host>:<pid>`` cut to the column (the pid, at the end, is kept)."""
    full = WORKER_PREFIX + name
    return full if len(full) <= 40 else WORKER_PREFIX + name[-(40 - len(WORKER_PREFIX)):]


def record_worker(session: so.Session, *, name: str, now: datetime) -> None:
    """A planning worker is alive (``dispatch worker``, every few seconds); old workers' rows
    are dropped."""
    record_job(session, name=worker_row_name(name), started=now, seconds=0.0, ok=True)
    session.execute(sa.delete(JobHeartbeat).where(
        JobHeartbeat.name.like(WORKER_PREFIX + "%"),
        JobHeartbeat.last_finished_at < now - KEEP_WORKERS))
    session.flush()


def live_workers(session: so.Session, *, now: datetime, within: timedelta) -> list[str]:
    """The workers that beat within ``within`` (``dispatch doctor``)."""
    return list(session.scalars(sa.select(JobHeartbeat.name).where(
        JobHeartbeat.name.like(WORKER_PREFIX + "%"),
        JobHeartbeat.last_finished_at >= now - within).order_by(JobHeartbeat.name)))

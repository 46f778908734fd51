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

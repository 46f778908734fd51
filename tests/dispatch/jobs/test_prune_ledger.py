"""The planning_tasks ledger is pruned by the scheduler (issue 18: it grew by a row a task,
about 150 x 12 an hour for a city, and was never pruned)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import orm as so

from dispatch import clock as dispatch_clock
from dispatch import models as m
from dispatch.jobs import runner
from dispatch.planning import tasks


def _task(session: so.Session, status: str, finished: datetime | None,
          queued: datetime) -> str:
    task_id = tasks.new_id()
    session.add(m.PlanningTask(id=task_id, kind="reoptimise", status=status, attempts=1,
                               queued_at=queued, finished_at=finished))
    return task_id


def test_prune_ledger_job_drops_finished_tasks_past_the_retention(
    app: Flask, session: so.Session
) -> None:
    """With TASK_KEEP_DAYS=2: finished tasks (applied, done, superseded, failed) that ended
    more than two days ago go; younger ones stay; open tasks stay however old (a worker may
    still apply one, and its apply needs the row)."""
    app.config["TASK_KEEP_DAYS"] = 2
    now = dispatch_clock.now(app.config)
    old, young = now - timedelta(days=2, minutes=1), now - timedelta(days=1, hours=23)
    gone = [_task(session, s, old, old) for s in ("applied", "done", "superseded", "failed")]
    kept = [_task(session, s, young, young) for s in ("applied", "failed")]
    kept += [_task(session, "queued", None, now - timedelta(days=30)),
             _task(session, "running", None, now - timedelta(days=30))]
    session.commit()

    pruned = runner.prune_ledger(app)

    assert pruned == len(gone)
    session.expire_all()
    left = set(session.scalars(sa.select(m.PlanningTask.id)))
    assert left == set(kept)
    assert runner.prune_ledger(app) == 0  # nothing more to do
    assert runner.JOBS["prune_ledger"] == ("PRUNE_INTERVAL", runner.prune_ledger)


def test_prune_refuses_a_negative_retention(session: so.Session) -> None:
    with pytest.raises(ValueError, match="negative"):
        tasks.prune(session, now=datetime.fromisoformat("2026-12-01T10:20:00+00:00"),
                    keep=timedelta(days=-1))

"""What the background work did, for the operators' metrics: job heartbeats and planner runs.

The web process serves ``/metrics`` but the jobs run in the scheduler process (production) or
in threads (demo), so what they did is written to the database, where any web process can read
it at scrape time. Counts and timings only: no patient data.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.models.base import Base


class JobHeartbeat(Base):
    """One row per background job: when it last ran, how long it took, and how often it failed.

    "Job lag" is read from it: the seconds since a job last finished, against its interval.
    """

    __tablename__ = "job_heartbeats"
    __table_args__ = (
        sa.CheckConstraint("runs >= 0 AND failures >= 0", name="counts"),
    )

    name: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    last_started_at: so.Mapped[datetime]
    last_finished_at: so.Mapped[datetime]
    last_seconds: so.Mapped[float] = so.mapped_column(sa.Float)
    last_ok: so.Mapped[bool] = so.mapped_column(sa.Boolean)
    runs: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    failures: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)


class PlannerRun(Base):
    """One read-solve-apply of one network: how long it took and what it left unplanned.

    Kept for a week (older rows are pruned when a run is recorded).
    """

    __tablename__ = "planner_runs"
    __table_args__ = (
        sa.CheckConstraint("seconds >= 0", name="seconds"),
        sa.CheckConstraint("visits >= 0 AND planned >= 0 AND dropped >= 0", name="counts"),
        sa.Index("ix_planner_runs_network_started", "network_id", "started_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    network_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("networks.id", ondelete="CASCADE"))
    method: so.Mapped[str] = so.mapped_column(sa.String(12))
    started_at: so.Mapped[datetime] = so.mapped_column(index=True)
    seconds: so.Mapped[float] = so.mapped_column(sa.Float)
    visits: so.Mapped[int] = so.mapped_column(sa.Integer)
    planned: so.Mapped[int] = so.mapped_column(sa.Integer)
    dropped: so.Mapped[int] = so.mapped_column(sa.Integer)
    relaxed: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)


class PlanningTask(Base):
    """One planning task sent to the workers (issue 18 part 5): the ledger that makes a task
    re-run after a worker died apply nothing twice, and lets the scheduler send a network's
    work only when none of that kind is already waiting or running.

    ``status``: ``queued`` (sent), ``running`` (a worker took it; ``attempts`` counts the
    takes), ``applied`` (its plan was written, in the same transaction), ``done`` (finished
    with nothing to apply, or a proposal stored), ``superseded`` (a newer plan was applied to
    the network after this one read it: dropped), ``failed``.
    """

    __tablename__ = "planning_tasks"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'applied', 'done', 'superseded', 'failed')",
            name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
        sa.Index("ix_planning_tasks_open", "kind", "network_id", "status"),
    )

    id: so.Mapped[str] = so.mapped_column(sa.String(36), primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    network_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("networks.id", ondelete="CASCADE"))
    #: The plan request or capacity run the task is for (kinds ``plan`` and ``capacity``).
    subject_id: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default="queued")
    #: The network's plan generation the task's plan was read at, and the one its apply made.
    read_generation: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    applied_generation: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    worker: so.Mapped[str | None] = so.mapped_column(sa.String(80))
    queued_at: so.Mapped[datetime] = so.mapped_column(index=True)
    started_at: so.Mapped[datetime | None]
    finished_at: so.Mapped[datetime | None]
    note: so.Mapped[str | None] = so.mapped_column(sa.String(300))
